import { crypto } from '../crypto/index.js';
import { fromHex, toHex } from '../encoding/index.js';

/**
 * SHA-256 of SHA-256: Bitcoin's hash for block headers (the block hash), transactions (the txid)
 * and the interior nodes of a block's Merkle tree.
 */
export function doubleSha256(bytes: Uint8Array): Uint8Array {
  return crypto.sha256(crypto.sha256(bytes));
}

/**
 * The hex Bitcoin software shows for a hash (block explorers, RPC, `getblockhash`): the bytes of
 * the hash in reverse. Hashes are computed and serialized in internal order, so everything in
 * this folder works in internal order and converts only at the edges, for people.
 */
export function toDisplayHex(hash: Uint8Array): string {
  // A copy: slice() of a Node byte buffer is a view, and reversing it would reverse the caller's bytes.
  return toHex(Uint8Array.from(hash).reverse());
}

/** The internal-order bytes of a hash given in display hex (the inverse of toDisplayHex). */
export function fromDisplayHex(hex: string): Uint8Array {
  return fromHex(hex).reverse();
}
