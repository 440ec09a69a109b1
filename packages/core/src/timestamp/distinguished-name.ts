import type { RelativeDistinguishedNames } from 'pkijs';
import { toHex } from '../encoding/index.js';

/** Short names of RFC 4514 §3 (plus the usual extras OpenSSL prints) by attribute type OID. */
const SHORT_NAMES: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.5', 'serialNumber'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.9', 'STREET'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
]);

/** RFC 4514 §2.4 escaping of an attribute value string. */
function escapeValue(value: string): string {
  let out = value.replace(/[\\,+"<>;=]/g, (c) => '\\' + c).replace(/\0/g, '\\00');
  if (out.startsWith('#') || out.startsWith(' ')) out = '\\' + out;
  if (out.endsWith(' ') && out.length > 1) out = out.slice(0, -1) + '\\ ';
  return out;
}

/**
 * A distinguished name as an RFC 4514 string (https://www.rfc-editor.org/rfc/rfc4514#section-2):
 * last RDN first, known types by short name, others as `OID=#hex` of their encoding.
 */
export function formatDistinguishedName(name: RelativeDistinguishedNames): string {
  return name.typesAndValues
    .map((tv) => {
      const short = SHORT_NAMES.get(tv.type);
      const raw = (tv.value as { valueBlock?: { value?: unknown } }).valueBlock?.value;
      if (short !== undefined && typeof raw === 'string') return `${short}=${escapeValue(raw)}`;
      return `${tv.type}=#${toHex(new Uint8Array(tv.value.toBER()))}`;
    })
    .reverse()
    .join(',');
}
