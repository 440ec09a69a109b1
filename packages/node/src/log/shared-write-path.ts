import { RemembrancerError } from '@vaultmesh/core';
import type { EngineBatchHasher } from '../hashing/index.js';
import type { SharedLogStorage } from '../storage/shared-log-storage.js';
import type { AppendResult } from './log-engine.js';
import type { ResolvedLogEngineConfig } from './log-engine-config.js';
import type { NamespaceRegistry } from './namespace-registry.js';
import type { Sequencer, NamespaceGroup, SequencerStats } from './sequencer.js';
import type { StateFollower } from './state-follower.js';
import { assertAppendable, groupCommitSequencer } from './write-path.js';

/**
 * Appends on a front end of a node whose front ends share one database (issue 14): the same
 * checks, queue and group commit as WritePath, but a group commit only sequences — the storage
 * gives the indices and stores the entries durably (SharedLogStorage.sequence) — and the lease
 * holder integrates. An append resolves once its entries are integrated (the LogEngine contract:
 * proofs and receipts can be asked for at once), or after `integrationWaitMs` if no holder
 * integrates them by then (a failover): they are durable at their indices either way.
 */
export class SharedWritePath {
  private readonly sequencer: Sequencer;
  private readonly hasher: EngineBatchHasher;
  private refusing = false;

  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly storage: SharedLogStorage,
    config: ResolvedLogEngineConfig,
    private readonly follower: StateFollower,
    /** Told after each sequencing commit (the local integrator, if leading). */
    private readonly onSequenced: () => void,
    private readonly integrationWaitMs: number,
  ) {
    this.hasher = config.batchHasher;
    this.sequencer = groupCommitSequencer(config, (groups) => this.commitGroups(groups));
  }

  async append(namespace: string, entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    if (this.refusing) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
    const st = this.registry.state(namespace);
    assertAppendable(entries);
    if (entries.length === 0) return [];
    const results = await this.sequencer.enqueue(st.key, entries);
    await this.follower.waitIntegrated(st, results[results.length - 1]!.index + 1, this.integrationWaitMs);
    return results;
  }

  drain(): Promise<void> {
    this.refusing = true;
    return this.sequencer.drain();
  }

  stats(): SequencerStats {
    return this.sequencer.stats();
  }

  private async commitGroups(groups: readonly NamespaceGroup[]): Promise<AppendResult[][]> {
    const firsts = await this.storage.sequence(groups.map((g) => ({ namespace: g.ns, entries: g.entries })));
    const results = groups.map((g, k) => {
      const first = firsts[k]!;
      const st = this.registry.stateByKey(g.ns);
      let bytes = 0;
      for (const e of g.entries) bytes += e.length;
      st.storedBytes += bytes;
      st.sequenced = Math.max(st.sequenced ?? 0, first + g.entries.length);
      const hashes = this.hasher.leafHashes(g.entries);
      return hashes.map((leafHash, i) => ({ index: first + i, leafHash }));
    });
    this.onSequenced();
    return results;
  }
}
