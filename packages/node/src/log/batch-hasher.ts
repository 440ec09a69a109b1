import { leafHash } from '@vaultmesh/core';

/**
 * Hashes for whole batches at once, so an implementation can amortise per-call overhead (native
 * code, SIMD multi-buffer SHA-256). The node's `hashing` module (native addon with a node:crypto
 * fallback) satisfies this interface.
 */
export interface EngineBatchHasher {
  /** leafHashes(d)[i] = SHA-256(0x00 ‖ d[i]); one 32-byte hash per input, in order. */
  leafHashes(datas: readonly Uint8Array[]): Uint8Array[];
  /**
   * Optional: `children` packs n (left ‖ right) pairs of 32-byte hashes; returns the n parents
   * SHA-256(0x01 ‖ left ‖ right), packed. Without it interior nodes use core's nodeHash.
   */
  nodeHashesPacked?(children: Uint8Array): Uint8Array;
}

/** Core's leafHash, one entry at a time. */
export const defaultBatchHasher: EngineBatchHasher = {
  leafHashes(datas) {
    const out = new Array<Uint8Array>(datas.length);
    for (let i = 0; i < datas.length; i++) out[i] = leafHash(datas[i]!);
    return out;
  },
};
