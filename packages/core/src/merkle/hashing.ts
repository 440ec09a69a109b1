import { crypto } from '../crypto/index.js';

// RFC 6962 §2.1 domain separation: leaves and interior nodes can never collide.
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

export const HASH_SIZE = 32;

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_ROOT: Uint8Array = crypto.sha256(new Uint8Array(0));

export function leafHash(data: Uint8Array): Uint8Array {
  return crypto.sha256Parts([LEAF_PREFIX, data]);
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return crypto.sha256Parts([NODE_PREFIX, left, right]);
}
