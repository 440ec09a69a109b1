import { MAX_ENTRY_BYTES, RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import type { EngineBatchHasher } from '../hashing/index.js';
import type { LogStorage } from '../storage/log-storage.js';
import { integrate, jsPairHasher, type Integration, type PairHasher } from './integrator.js';
import type { AppendResult } from './log-engine.js';
import type { ResolvedLogEngineConfig } from './log-engine-config.js';
import type { NamespaceRegistry } from './namespace-registry.js';
import type { NamespaceState } from './namespace-state.js';
import { Sequencer, type NamespaceGroup, type SequencerStats } from './sequencer.js';
import type { TileStore } from './tile-store.js';

/** The argument checks of every append (INVALID_ARGUMENT, ENTRY_TOO_LARGE), whatever the write path. */
export function assertAppendable(entries: readonly Uint8Array[]): void {
  // Checked through `unknown`: Array.isArray would narrow the element type away.
  const list: unknown = entries;
  if (!Array.isArray(list)) throw new RemembrancerError('INVALID_ARGUMENT', 'entries must be an array');
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i];
    if (!(e instanceof Uint8Array)) throw new RemembrancerError('INVALID_ARGUMENT', `entry ${i} is not bytes`);
    if (e.length > MAX_ENTRY_BYTES) {
      throw new RemembrancerError(
        'ENTRY_TOO_LARGE',
        `entry ${i} is ${e.length} bytes; at most ${MAX_ENTRY_BYTES} are allowed`,
      );
    }
  }
}

/**
 * The sequencer of a write path (group commit, pushback, fair scheduling) over its commit function,
 * whose untyped failures become INTERNAL: callers (the HTTP layer) branch on codes.
 */
export function groupCommitSequencer(
  config: ResolvedLogEngineConfig,
  commit: (groups: readonly NamespaceGroup[]) => Promise<AppendResult[][]>,
): Sequencer {
  return new Sequencer(
    {
      batchMaxEntries: config.batchMaxEntries,
      batchMaxAgeMs: config.batchMaxAgeMs,
      queueMaxEntries: config.queueMaxEntries,
      queueMaxBytes: config.queueMaxBytes,
    },
    (groups) =>
      commit(groups).catch((error: unknown) => {
        throw isRemembrancerError(error)
          ? error
          : new RemembrancerError('INTERNAL', `append failed: ${String(error)}`, { cause: error });
      }),
    (error, entries) => config.logger.error({ err: error, entries }, 'group commit failed; its appends were rejected'),
  );
}

/**
 * From append() to durable entries: argument checks, the sequencer (group commit, pushback, fair
 * scheduling), and each group commit: leaf hashes in bulk, integration into the tree and tiles,
 * one storage transaction for entries, tiles, tree state and leaf-hash index together (so every committed entry is
 * integrated), and only then the new trees adopted in memory.
 */
export class WritePath {
  private readonly sequencer: Sequencer;
  private readonly hasher: EngineBatchHasher;
  private readonly hashPairs: PairHasher;
  private readonly leafIndex: boolean;
  private refusing = false;

  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly storage: LogStorage,
    private readonly tiles: TileStore,
    config: ResolvedLogEngineConfig,
    /** Told of the namespaces each durable commit grew (the tile mirror copies what they completed). */
    private readonly onCommitted: (states: NamespaceState[]) => void,
  ) {
    this.leafIndex = config.leafIndex;
    this.hasher = config.batchHasher;
    const packed = this.hasher.nodeHashesPacked;
    this.hashPairs = packed === undefined ? jsPairHasher : (children) => packed.call(this.hasher, children);
    this.sequencer = groupCommitSequencer(config, (groups) => this.commitGroups(groups));
  }

  /** See LogEngine.append: resolves once durable; a rejected call stores nothing. */
  append(namespace: string, entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    try {
      if (this.refusing) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
      const st = this.registry.state(namespace);
      assertAppendable(entries);
      if (entries.length === 0) return Promise.resolve([]);
      return this.sequencer.enqueue(st.key, entries);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** Refuses new appends (SHUTTING_DOWN) and resolves once everything queued is committed or rejected. */
  drain(): Promise<void> {
    this.refusing = true;
    return this.sequencer.drain();
  }

  stats(): SequencerStats {
    return this.sequencer.stats();
  }

  /** One group commit: leaf hashes in bulk, integration into copies, one storage transaction (leaf index included). */
  private async commitGroups(groups: readonly NamespaceGroup[]): Promise<AppendResult[][]> {
    const all: Uint8Array[] = [];
    for (const g of groups) for (const e of g.entries) all.push(e);
    const hashes = this.hasher.leafHashes(all);
    if (hashes.length !== all.length) {
      throw new RemembrancerError(
        'INTERNAL',
        `batch hasher returned ${hashes.length} hashes for ${all.length} entries`,
      );
    }
    const staged: { st: NamespaceState; integration: Integration }[] = [];
    let offset = 0;
    for (const g of groups) {
      const st = this.registry.stateByKey(g.ns);
      const lh = hashes.slice(offset, offset + g.entries.length);
      offset += g.entries.length;
      // The right-edge tiles it extends are loaded first if storage alone has them (after a
      // restart, or evicted); st.range cannot move meanwhile: commits run one at a time.
      const range = st.range;
      const integration = await this.tiles.read(() => integrate(st.key, range, lh, this.tiles, this.hashPairs));
      staged.push({ st, integration });
    }
    await this.storage.commitBatch(
      staged.map(({ st, integration }, i) => ({
        namespace: st.key,
        previousSize: st.range.size,
        entries: groups[i]!.entries,
        tiles: integration.tiles,
        tree: { size: integration.range.size, compactRange: [...integration.range.hashes] },
        ...(this.leafIndex ? { indexLeaves: true } : {}),
      })),
    );
    // Durable: adopt the new trees. Nothing above this line changed engine state.
    const results = staged.map(({ st, integration }, g) => {
      for (const e of groups[g]!.entries) st.storedBytes += e.length;
      const first = st.range.size;
      st.range = integration.range;
      st.root = undefined;
      this.tiles.committed(st.key, integration.tiles);
      const leaves = integration.leaves;
      const out = new Array<AppendResult>(leaves.length / 32);
      for (let i = 0; i < out.length; i++)
        out[i] = { index: first + i, leafHash: leaves.subarray(i * 32, i * 32 + 32) };
      return out;
    });
    this.onCommitted(staged.map((s) => s.st));
    return results;
  }
}
