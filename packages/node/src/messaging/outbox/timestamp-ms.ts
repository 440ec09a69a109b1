/**
 * Milliseconds since the epoch of a timestamp isUtcTimestamp accepted (up to nine fraction
 * digits), the fraction cut to milliseconds. ECMAScript's Date.parse is defined for exactly the
 * `YYYY-MM-DDTHH:mm:ss.sssZ` form, so the text is brought to it first.
 */
export function timestampMs(s: string): number {
  const dot = s.indexOf('.');
  const fraction =
    dot < 0
      ? '000'
      : s
          .slice(dot + 1, -1)
          .padEnd(3, '0')
          .slice(0, 3);
  return Date.parse(`${s.slice(0, 19)}.${fraction}Z`);
}
