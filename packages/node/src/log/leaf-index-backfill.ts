import { HASH_SIZE, RemembrancerError, TILE_WIDTH } from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import { LEAF_INDEX_BACKFILL_LEAVES } from './log-engine-defaults.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';

/**
 * Brings a namespace's leaf-hash index up to its tree on open: a log stored before the index
 * existed, or grown while it was turned off, is indexed once from its level-0 tiles (which hold
 * every leaf hash, so no entry is read or hashed again). Each chunk commits on its own: a kill
 * mid-way resumes where the stored index ends. Afterwards every commit indexes its own leaves.
 */
export function backfillLeafIndex(
  st: NamespaceState,
  storage: LogStorage,
  logger: LogEngineLogger,
  chunkLeaves = LEAF_INDEX_BACKFILL_LEAVES,
): number {
  const size = st.range.size;
  const start = storage.leafIndexedSize(st.key);
  if (start > size) {
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `leaf index of ${st.record.id} covers ${start} entries but the tree has ${size}`,
    );
  }
  if (start === size) return 0;
  const t0 = performance.now();
  // Whole tiles per chunk (but at least one) so each tile is read once.
  const step = Math.max(TILE_WIDTH, chunkLeaves - (chunkLeaves % TILE_WIDTH));
  for (let from = start; from < size;) {
    const to = Math.min(size, from - (from % TILE_WIDTH) + step);
    const packed = new Uint8Array((to - from) * HASH_SIZE);
    for (let i = from; i < to;) {
      const index = Math.floor(i / TILE_WIDTH);
      const tile = storage.readTile(st.key, 0, index);
      const upto = Math.min(to, (index + 1) * TILE_WIDTH);
      if (tile === undefined || tile.width < upto - index * TILE_WIDTH) {
        throw new RemembrancerError('STORAGE_FAILURE', `level-0 tile ${index} of ${st.record.id} is missing or short`);
      }
      // The first width×32 bytes of a stored tile are its base row: the leaf hashes.
      const at = (i - index * TILE_WIDTH) * HASH_SIZE;
      packed.set(tile.data.subarray(at, at + (upto - i) * HASH_SIZE), (i - from) * HASH_SIZE);
      i = upto;
    }
    storage.indexLeaves(st.key, from, packed);
    from = to;
  }
  logger.info(
    { namespace: st.record.id, from: start, to: size, ms: Math.round(performance.now() - t0) },
    'leaf-hash index back-filled',
  );
  return size - start;
}
