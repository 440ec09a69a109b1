import { RemembrancerError } from '../errors.js';
import { utf8Encode } from '../encoding/bytes.js';
import { loneSurrogateAt } from './unicode.js';
import { MAX_JSON_DEPTH } from './parse-json-strict.js';

/*
 * RFC 8785 JSON Canonicalization Scheme (https://www.rfc-editor.org/rfc/rfc8785). Entry bytes,
 * and so leaf hashes, are defined by this output: any deviation forks the log from every other
 * implementation, so anything that is not plainly JSON is refused rather than coerced the way
 * JSON.stringify does (undefined dropped, Date via toJSON, Map as {}).
 */

/** Carries the reason and, while unwinding, the path of the offending value. */
class NotJsonError extends Error {
  readonly path: (string | number)[] = [];
}

// Strings without any of these need no work beyond quoting (the common case).
const NEEDS_WORK = /["\\\u0000-\u001f\ud800-\udfff]/;
const SHORT_ESCAPES: Record<number, string> = { 0x08: '\\b', 0x09: '\\t', 0x0a: '\\n', 0x0c: '\\f', 0x0d: '\\r' };

/** RFC 8785 §3.2.2.2: only \" \\ \b \t \n \f \r and lowercase \u00hh for other controls. */
function quote(s: string): string {
  if (!NEEDS_WORK.test(s)) return '"' + s + '"';
  const bad = loneSurrogateAt(s);
  if (bad >= 0)
    throw new NotJsonError(
      `lone surrogate U+${s.charCodeAt(bad).toString(16).toUpperCase()} at offset ${bad} of a string`,
    );
  let out = '"';
  let from = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let escaped: string;
    if (c < 0x20) escaped = SHORT_ESCAPES[c] ?? '\\u' + c.toString(16).padStart(4, '0');
    else if (c === 0x22) escaped = '\\"';
    else if (c === 0x5c) escaped = '\\\\';
    else continue;
    out += s.slice(from, i) + escaped;
    from = i + 1;
  }
  return out + s.slice(from) + '"';
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'object')
    return (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)?.constructor?.name ?? 'object';
  return typeof value;
}

/** What a serialization is bounded by. */
interface Limits {
  readonly maxDepth: number;
}

function serialize(value: unknown, ancestors: Set<object>, limits: Limits): string {
  switch (typeof value) {
    case 'string':
      return quote(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      // ECMAScript Number::toString is exactly RFC 8785 §3.2.2.3 (and gives "0" for -0).
      if (!Number.isFinite(value)) throw new NotJsonError(`${String(value)} is not a JSON number`);
      return String(value);
    case 'object': {
      if (value === null) return 'null';
      if (ancestors.has(value)) throw new NotJsonError('cyclic structure');
      // The ancestors are exactly the open containers, so their count is the nesting depth.
      if (ancestors.size >= limits.maxDepth) throw new NotJsonError(`nesting deeper than ${limits.maxDepth} levels`);
      ancestors.add(value);
      const out = Array.isArray(value)
        ? serializeArray(value, ancestors, limits)
        : serializeObject(value, ancestors, limits);
      ancestors.delete(value);
      return out;
    }
    default:
      throw new NotJsonError(`${describe(value)} is not a JSON value`);
  }
}

function serializeArray(value: readonly unknown[], ancestors: Set<object>, limits: Limits): string {
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    if (i > 0) out += ',';
    try {
      // A hole reads as undefined and is refused like an explicit undefined.
      out += serialize(value[i], ancestors, limits);
    } catch (e) {
      if (e instanceof NotJsonError) e.path.unshift(i);
      throw e;
    }
  }
  return out + ']';
}

function serializeObject(value: object, ancestors: Set<object>, limits: Limits): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null)
    throw new NotJsonError(`${describe(value)} is not a plain JSON object`);
  if (Object.getOwnPropertySymbols(value).length > 0) throw new NotJsonError('object has symbol-keyed properties');
  // Default sort compares UTF-16 code units, which is exactly RFC 8785 §3.2.3.
  const keys = Object.keys(value).sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (i > 0) out += ',';
    try {
      out += quote(key) + ':' + serialize((value as Record<string, unknown>)[key], ancestors, limits);
    } catch (e) {
      if (e instanceof NotJsonError) e.path.unshift(key);
      throw e;
    }
  }
  return out + '}';
}

function pointer(path: readonly (string | number)[]): string {
  // RFC 6901 JSON Pointer, so the message names the offending member unambiguously.
  return path.map((p) => '/' + String(p).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

export interface CanonicalizeOptions {
  /** Deepest nesting accepted, counted as parseJsonStrict counts it (default MAX_JSON_DEPTH). */
  readonly maxDepth?: number;
}

/**
 * The RFC 8785 canonical JSON text of a JSON value: null, booleans, finite numbers, strings without
 * lone surrogates, arrays and plain objects of those. Anything else (undefined, functions, bigint,
 * symbols, NaN/Infinity, class instances, cycles, nesting deeper than `maxDepth`) throws
 * INVALID_ARGUMENT. Whatever parseJsonStrict accepts canonicalizes under the same bound.
 */
export function canonicalize(value: unknown, options: CanonicalizeOptions = {}): string {
  try {
    return serialize(value, new Set(), { maxDepth: options.maxDepth ?? MAX_JSON_DEPTH });
  } catch (e) {
    if (e instanceof NotJsonError) {
      const where = e.path.length > 0 ? ` at ${pointer(e.path)}` : '';
      throw new RemembrancerError('INVALID_ARGUMENT', `cannot canonicalize: ${e.message}${where}`);
    }
    if (e instanceof RangeError) {
      // Stack exhaustion on absurdly deep nesting, or a result beyond the maximum string length.
      throw new RemembrancerError('INVALID_ARGUMENT', 'cannot canonicalize: value is nested too deeply or too large', {
        cause: e,
      });
    }
    throw e;
  }
}

/** UTF-8 bytes of canonicalize(value) (RFC 8785 §3.2.4): what gets hashed and signed. */
export function canonicalBytes(value: unknown, options: CanonicalizeOptions = {}): Uint8Array {
  return utf8Encode(canonicalize(value, options));
}
