/** What the namespace page's search box was given: an entry index, a leaf hash, or neither. */
export type SearchQuery =
  { kind: 'index'; index: number } | { kind: 'leaf'; hex: string } | { kind: 'invalid'; why: string };

function base64ToHex(b64: string): string | undefined {
  const std = b64.replace(/-/g, '+').replace(/_/g, '/');
  try {
    const bin = atob(std.padEnd(Math.ceil(std.length / 4) * 4, '='));
    return [...bin].map((c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('');
  } catch {
    return undefined;
  }
}

/**
 * An index (decimal) or an RFC 6962 leaf hash: 64 hex digits, or 44 characters of base64 (the
 * form receipts and the API print). Anything else is refused with why, before any request.
 */
export function parseSearch(text: string): SearchQuery {
  const q = text.trim();
  // 64 hex digits first: a hash may be all decimal digits, and no index is that long.
  if (/^[0-9a-fA-F]{64}$/.test(q)) return { kind: 'leaf', hex: q.toLowerCase() };
  if (/^[0-9]+$/.test(q)) {
    const index = Number(q);
    return Number.isSafeInteger(index) ? { kind: 'index', index } : { kind: 'invalid', why: 'index too large' };
  }
  if (/^[A-Za-z0-9+/_-]{43}=?$/.test(q)) {
    const hex = base64ToHex(q);
    if (hex && hex.length === 64) return { kind: 'leaf', hex };
  }
  return { kind: 'invalid', why: 'give an entry index (a whole number) or a leaf hash (64 hex digits or base64)' };
}
