/**
 * RFC 3339 timestamps as federation documents carry them (https://www.rfc-editor.org/rfc/rfc3339#section-5.6):
 * UTC only, spelled with an upper-case `T` and `Z`, seconds required, at most nine fraction digits,
 * no leap second. One spelling per instant (modulo trailing fraction zeros) keeps signed documents
 * comparable without a date library; `new Date().toISOString()` produces it.
 */
export const UTC_TIMESTAMP_PATTERN =
  /^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?Z$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** True iff `s` is a UTC RFC 3339 timestamp of the form above naming a real calendar day. */
export function isUtcTimestamp(s: unknown): s is string {
  if (typeof s !== 'string' || !UTC_TIMESTAMP_PATTERN.test(s)) return false;
  const year = Number(s.slice(0, 4));
  const month = Number(s.slice(5, 7));
  const day = Number(s.slice(8, 10));
  return day <= daysInMonth(year, month);
}

/** Fixed-width form whose string order is time order: the fraction padded to nine digits. */
function sortKey(s: string): string {
  const dot = s.indexOf('.');
  const fraction = dot < 0 ? '' : s.slice(dot + 1, -1);
  return s.slice(0, 19) + '.' + fraction.padEnd(9, '0');
}

/** Negative, zero or positive as `a` is before, at or after `b` (both valid, see isUtcTimestamp). */
export function compareUtcTimestamps(a: string, b: string): number {
  const ka = sortKey(a);
  const kb = sortKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
