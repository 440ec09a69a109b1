import {
  CompactRange,
  MAX_ENTRY_BYTES,
  RemembrancerError,
  bytesEqual,
  leafHash,
  rangeDecomposition,
} from '@vaultmesh/core';
import type { LogStorage, StoredNamespace } from '../storage/log-storage.js';
import type { LogEngineLogger } from './logger.js';
import { plainBytes, type LogReader } from './log-reader.js';
import type { NamespaceRegistry } from './namespace-registry.js';
import { rootFromEdge } from './proof-builder.js';
import type { TileMirrorScheduler } from './tile-mirror-scheduler.js';
import type { TileStore } from './tile-store.js';

export interface StartupCheckContext {
  storage: LogStorage;
  registry: NamespaceRegistry;
  tiles: TileStore;
  reader: LogReader;
  mirror: TileMirrorScheduler | undefined;
  nodeName: string;
  logger: LogEngineLogger;
}

/**
 * Loads a stored namespace and checks, in O(log n) reads, that its tree state, entries, tiles
 * and latest checkpoint agree. A disagreement means the database was damaged or edited: refuse
 * to serve rather than sign checkpoints over a tree that may not match the entries
 * (STORAGE_FAILURE), and the engine does not open.
 */
export async function adoptStoredNamespace(
  stored: StoredNamespace,
  ctx: StartupCheckContext,
  /** With several front ends: the entries sequenced, of which the tree integrates a prefix. */
  sequenced?: number,
): Promise<void> {
  const { storage, registry, tiles } = ctx;
  const fail = (why: string): never => {
    const msg = `log database is inconsistent for namespace ${stored.id}: ${why}; refusing to open (restore from a backup)`;
    ctx.logger.error({ namespace: stored.id }, msg);
    throw new RemembrancerError('STORAGE_FAILURE', msg);
  };
  const signer = registry.signerFor(stored.origin);
  if (stored.origin !== registry.originOf(stored.id))
    fail(`origin ${stored.origin} does not belong to node ${ctx.nodeName}`);
  if (signer.vkey !== stored.logVkey) fail("stored log vkey is not derived from this node's log key (wrong key file?)");
  const tree = await storage.loadTreeState(stored.key);
  const count = await storage.entryCount(stored.key);
  if (sequenced === undefined ? count !== tree.size : count !== sequenced || sequenced < tree.size)
    fail(`tree state covers ${tree.size} entries (${sequenced ?? tree.size} sequenced) but ${count} are stored`);
  let range: CompactRange;
  try {
    range = new CompactRange(tree.size, tree.compactRange);
  } catch (e) {
    return fail(`stored compact range is malformed (${e instanceof Error ? e.message : String(e)})`);
  }
  const bytes = await storage.entryBytes(stored.key);
  // Every entry holds at most MAX_ENTRY_BYTES: a total beyond that is damage, not data.
  if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > Math.max(tree.size, sequenced ?? 0) * MAX_ENTRY_BYTES) {
    fail(`stored entry byte total ${bytes} is impossible for ${tree.size} entries`);
  }
  const st = registry.install(stored, signer, range, bytes);
  if (sequenced !== undefined) st.sequenced = sequenced;
  // Before any tile is read through it: the mirror must agree with this database.
  await ctx.mirror?.validate(st);
  const ids = rangeDecomposition(0, tree.size);
  const disagreeing = await tiles.read(() =>
    ids.find((id, i) => {
      const h = tiles.hash(st.key, id.level, id.index);
      return h === undefined || !bytesEqual(h, range.hashes[i]!);
    }),
  );
  if (disagreeing !== undefined)
    fail(`tiles disagree with the tree state at subtree ${disagreeing.level}/${disagreeing.index}`);
  if (tree.size > 0) {
    const last = await storage.readEntry(st.key, tree.size - 1);
    const h = await tiles.read(() => tiles.hash(st.key, 0, tree.size - 1)?.slice());
    if (last === undefined || h === undefined || !bytesEqual(leafHash(last), h))
      fail('the last entry does not match its leaf hash');
  }
  const cp = await storage.latestCheckpoint(st.key);
  if (cp !== undefined) {
    if (cp.size > tree.size) fail(`latest checkpoint has size ${cp.size} beyond the tree size ${tree.size}`);
    const root = await tiles.read(() => rootFromEdge(ctx.reader.edge(st, cp.size)));
    if (!bytesEqual(root, cp.root)) fail(`latest checkpoint (size ${cp.size}) is not a state of this tree`);
    st.latest = { ...cp, root: plainBytes(cp.root) };
  }
}
