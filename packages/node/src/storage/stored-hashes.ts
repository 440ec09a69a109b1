import { HASH_SIZE, RemembrancerError } from '@vaultmesh/core';

/** A compact range as stored by every backend: its 32-byte hashes concatenated, largest subtree first. */
export function joinHashes(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * HASH_SIZE);
  hashes.forEach((h, i) => out.set(h, i * HASH_SIZE));
  return out;
}

/** The hashes of a stored compact range, each its own copy; a length not a multiple of 32 is corruption. */
export function splitHashes(blob: Uint8Array): Uint8Array[] {
  if (blob.length % HASH_SIZE !== 0) throw new RemembrancerError('STORAGE_FAILURE', 'corrupt compact range blob');
  const out: Uint8Array[] = [];
  for (let o = 0; o < blob.length; o += HASH_SIZE) out.push(new Uint8Array(blob.subarray(o, o + HASH_SIZE)));
  return out;
}

/** Drivers hand out Buffers; every backend hands out plain Uint8Arrays (same memory). */
export function plainView(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
