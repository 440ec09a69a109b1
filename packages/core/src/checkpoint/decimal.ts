/**
 * Parses an ASCII decimal with no leading zeroes ("0" itself allowed), the number syntax of
 * https://c2sp.org/tlog-checkpoint#note-text (tree size), https://c2sp.org/tlog-proof#format
 * (index) and https://c2sp.org/tlog-cosignature (timestamp line). Returns undefined for anything
 * else, including values above Number.MAX_SAFE_INTEGER, which this implementation cannot represent
 * exactly (2^53 leaves is far beyond any real log).
 */
export function parseCanonicalDecimal(s: string): number | undefined {
  if (!/^(?:0|[1-9][0-9]{0,15})$/.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

export function isCanonicalUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
