import { RemembrancerError } from '../errors.js';
import {
  serializeSfInnerList,
  serializeSfItem,
  serializeSfParameters,
  type SfInnerList,
  type SfItem,
} from './structured-field.js';

/**
 * The signature base of RFC 9421 §2.5 (https://www.rfc-editor.org/rfc/rfc9421#section-2.5),
 * generic over the covered components: `signatureParams` is the value of one Signature-Input
 * member (the Inner List of component identifiers with the signature parameters) and
 * `componentValues[i]` is the canonicalized value of `signatureParams.items[i]`, already derived by
 * the caller (§2.1 for fields, §2.2 for derived components). The result is
 *
 *     "<identifier>": <value>\n          (one line per covered component, in order)
 *     "@signature-params": <inner list>  (no trailing newline)
 *
 * where every identifier and the inner list are re-serialized per RFC 8941 §4.1, which is what
 * §3.2 step 7 asks of a verifier. Fails with INVALID_ARGUMENT when a value could not be part of a
 * US-ASCII signature base or an identifier is not a valid, distinct component identifier.
 */
export function signatureBase(signatureParams: SfInnerList, componentValues: readonly string[]): string {
  const items = signatureParams.items;
  if (items.length !== componentValues.length) {
    invalid(`${items.length} covered components but ${componentValues.length} values`);
  }
  const seen = new Set<string>();
  let out = '';
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    const name = componentName(item);
    const identity = componentIdentity(item);
    if (seen.has(identity)) invalid(`component ${serializeSfItem(item)} is covered twice`);
    seen.add(identity);
    const value = componentValues[i]!;
    checkComponentValue(name, value);
    out += `${serializeSfItem(item)}: ${value}\n`;
  }
  return out + `"@signature-params": ${serializeSfInnerList(signatureParams)}`;
}

function invalid(why: string): never {
  throw new RemembrancerError('INVALID_ARGUMENT', `cannot build the signature base: ${why}`);
}

/**
 * A component name is an sf-string (§2): a lowercased field name (§2.1) or a derived component
 * name starting with "@" (§2.2), never `@signature-params` itself (§2.3).
 */
function componentName(item: SfItem): string {
  if (item.value.type !== 'string') invalid('a component identifier is not a string');
  const name = item.value.value;
  if (!/^@?[a-z0-9!#$%&'*+\-.^_`|~]+$/.test(name)) invalid(`invalid component name ${JSON.stringify(name)}`);
  if (name === '@signature-params') invalid('@signature-params cannot be a covered component');
  return name;
}

/**
 * Two identifiers are the same component when name and parameters agree, whatever the order of
 * the parameters (§2): `"foo";bar;baz` and `"foo";baz;bar` may not both be covered.
 */
function componentIdentity(item: SfItem): string {
  const params = [...item.params].map(([k, v]) => serializeSfParameters(new Map([[k, v]]))).sort();
  return serializeSfItem({ value: item.value, params: new Map() }) + params.join('');
}

/**
 * Values must keep the base US-ASCII and line-oriented (§2.5): field values are `field-content`
 * without obs-text (visible ASCII, with inner SP and HTAB); derived values are VCHAR and SP only
 * (§2.2). Neither may start or end with whitespace, since §2.1 strips it and §2.2 forbids it.
 */
function checkComponentValue(name: string, value: string): void {
  if (typeof value !== 'string') invalid(`value of ${JSON.stringify(name)} is not a string`);
  const derived = name.startsWith('@');
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok = (c >= 0x20 && c <= 0x7e) || (!derived && c === 0x09);
    if (!ok) invalid(`value of ${JSON.stringify(name)} holds a character outside printable ASCII at ${i}`);
  }
  if (/^[ \t]|[ \t]$/.test(value)) invalid(`value of ${JSON.stringify(name)} has leading or trailing whitespace`);
}
