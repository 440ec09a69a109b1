/**
 * https://c2sp.org/tlog-witness#add-checkpoint: "The client MUST NOT send more than 63 consistency
 * proof lines." (An RFC 6962 consistency proof between trees of at most 2^64 leaves has at most 63
 * hashes.)
 */
export const MAX_CONSISTENCY_PROOF_LINES = 63;

/**
 * Upper bound on an add-checkpoint request body and on a witness response body, in UTF-8 bytes.
 * The spec sets none. A request is an old-size line, at most 63 proof lines (~2.9 KB) and a
 * checkpoint note; the note may carry up to MAX_NOTE_SIGNATURES lines, and with ML-DSA-44
 * cosignatures (~3.3 KB per line) from other witnesses that can approach 330 KB. 256 KiB covers
 * every realistic request (ours are under 1 KB) while bounding what an unauthenticated client can
 * make the witness read and parse.
 */
export const MAX_WITNESS_BODY_BYTES = 256 * 1024;

/** Media type of the body of a 409 Conflict answer, https://c2sp.org/tlog-witness#add-checkpoint. */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

/** UTF-8 length of a string without encoding it (a lone surrogate counts as its 3-byte U+FFFD). */
export function utf8ByteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** True if s is certainly longer than `max` UTF-8 bytes; cheap for the common short case. */
export function exceedsUtf8Bytes(s: string, max: number): boolean {
  // Every UTF-16 code unit is at least one UTF-8 byte and at most three.
  if (s.length > max) return true;
  if (s.length * 3 <= max) return false;
  return utf8ByteLength(s) > max;
}
