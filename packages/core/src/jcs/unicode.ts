/**
 * Position of the first UTF-16 code unit of s that is a surrogate without its partner, or -1.
 * Lone surrogates have no UTF-8 encoding (a TextEncoder silently turns them into U+FFFD), so
 * RFC 8785 §3.2.2.2 and I-JSON (RFC 7493 §2.1) require rejecting them.
 */
export function loneSurrogateAt(s: string, from = 0): number {
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    if (c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
    }
    return i;
  }
  return -1;
}
