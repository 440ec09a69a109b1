import { RemembrancerError } from '@vaultmesh/core';
import { LEAF_CHUNK } from '../storage/leaf-runs.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';

/**
 * Brings a namespace's leaf-hash index up to its tree on open: a log stored before the index
 * existed, or grown while it was turned off, gets the runs of its complete chunks from their
 * level-0 tiles (which hold every leaf hash, so no entry is read or hashed again). Each chunk
 * commits on its own: a kill mid-way resumes where the stored runs end. Afterwards every commit
 * that completes a chunk writes its run. Returns the number of entries indexed.
 */
export async function backfillLeafIndex(
  st: NamespaceState,
  storage: LogStorage,
  logger: LogEngineLogger,
): Promise<number> {
  const size = st.range.size;
  const start = await storage.leafIndexedSize(st.key);
  if (start % LEAF_CHUNK !== 0 || start > size) {
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `leaf index of ${st.record.id} covers ${start} entries, not whole chunks of a tree of ${size}`,
    );
  }
  const end = size - (size % LEAF_CHUNK);
  if (start === end) return 0;
  const t0 = performance.now();
  for (let chunk = start / LEAF_CHUNK; chunk < end / LEAF_CHUNK; chunk++) await storage.indexChunk(st.key, chunk);
  logger.info(
    { namespace: st.record.id, from: start, to: end, ms: Math.round(performance.now() - t0) },
    'leaf-hash index back-filled',
  );
  return end - start;
}
