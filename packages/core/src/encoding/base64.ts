import { RemembrancerError } from '../errors.js';

// Standard alphabet with padding (RFC 4648 §4), as used by C2SP notes and our JSON. Implemented here
// rather than with atob or Node APIs so core runs unchanged in the browser and rejects non-canonical input.
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) LOOKUP[ALPHABET.charCodeAt(i)] = i;

export function base64Encode(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + '==';
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >> 18]! + ALPHABET[(n >> 12) & 63]! + ALPHABET[(n >> 6) & 63]! + '=';
  }
  return out;
}

/**
 * Strict decoding: the length must be a multiple of 4, padding only at the end, no whitespace, and
 * unused trailing bits must be zero, so every byte string has exactly one accepted encoding.
 */
export function base64Decode(s: string): Uint8Array {
  const fail = (why: string): never => {
    throw new RemembrancerError('INVALID_ENCODING', `invalid base64: ${why}`);
  };
  if (s.length % 4 !== 0) fail('length is not a multiple of 4');
  let pad = 0;
  if (s.endsWith('==')) pad = 2;
  else if (s.endsWith('=')) pad = 1;
  const outLen = (s.length / 4) * 3 - pad;
  const out = new Uint8Array(outLen);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    const last = i + 4 === s.length;
    const v = [0, 0, 0, 0];
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      if (c === 61 /* = */ && last && j >= 4 - pad) continue;
      const x = c < 128 ? LOOKUP[c]! : -1;
      if (x < 0) fail(`unexpected character at ${i + j}`);
      v[j] = x;
    }
    const n = (v[0]! << 18) | (v[1]! << 12) | (v[2]! << 6) | v[3]!;
    out[o++] = n >> 16;
    if (o < outLen) out[o++] = (n >> 8) & 255;
    if (o < outLen) out[o++] = n & 255;
    if (last && pad === 2 && (n & 0xffff) !== 0) fail('non-zero trailing bits');
    if (last && pad === 1 && (n & 0xff) !== 0) fail('non-zero trailing bits');
  }
  return out;
}
