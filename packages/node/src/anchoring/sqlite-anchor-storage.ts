import type {
  AnchorFailure,
  CoveringAnchor,
  DueNamespace,
  EpochMode,
  EpochRecord,
  FinalizedOutcome,
  SignedRoot,
} from './anchor-records.js';
import { AnchorStore } from './anchor-store.js';
import type { AnchorStorage, DueEffect, DueEventSeen } from './anchor-storage.js';
import { SqliteChainJournalStorage } from './chain/sqlite-chain-journal-storage.js';
import type { EpochFinalization } from './epoch-finalization.js';

/**
 * AnchorStorage over the node's SQLite anchoring file (AnchorStore): delegation, with the
 * compound operations in one AnchorStore.atomically() (IMMEDIATE: the write lock is taken before
 * the first read, across connections). Async methods, so a synchronous throw is a rejection.
 */
export class SqliteAnchorStorage implements AnchorStorage {
  readonly store: AnchorStore;
  readonly chain: SqliteChainJournalStorage;

  /** Opens the file at `path`, or adapts a store already open (closing this closes it). */
  constructor(store: AnchorStore | string) {
    this.store = typeof store === 'string' ? new AnchorStore(store) : store;
    this.chain = new SqliteChainJournalStorage(this.store.chain);
  }

  async markDue(target: string, namespace: string, dueAtMs: number, sealedSize: number): Promise<void> {
    this.store.markDue(target, namespace, dueAtMs, sealedSize);
  }

  async dueSeen(namespace: string, level: string, target: string): Promise<number | undefined> {
    return this.store.dueSeen(namespace, level, target);
  }

  async markDueSeen(namespace: string, level: string, target: string, dueAtMs: number): Promise<void> {
    this.store.markDueSeen(namespace, level, target, dueAtMs);
  }

  async handleDue(event: DueEventSeen, effect: DueEffect): Promise<void> {
    const s = this.store;
    s.atomically(() => {
      if (effect.kind === 'queue') {
        s.markDue(event.target, effect.namespace, event.dueAtMs, effect.sealedSize);
        s.bump('due', event.target);
      } else if (effect.kind === 'skip') {
        s.bump('skips', effect.label);
      }
      s.markDueSeen(event.namespace, event.level, event.target, event.dueAtMs);
    });
  }

  async clearDue(target: string, namespace: string): Promise<void> {
    this.store.clearDue(target, namespace);
  }

  async clearDueSatisfied(target: string, namespace: string, anchoredSize: number): Promise<boolean> {
    const s = this.store;
    return s.atomically(() => {
      const due = s.due(target).find((d) => d.namespace === namespace);
      if (due === undefined || due.sealedSize > anchoredSize) return false;
      s.clearDue(target, namespace);
      return true;
    });
  }

  async due(target: string): Promise<DueNamespace[]> {
    return this.store.due(target);
  }

  async dueCount(target: string): Promise<number> {
    return this.store.dueCount(target);
  }

  async anchoredSize(target: string, origin: string): Promise<number> {
    return this.store.anchoredSize(target, origin);
  }

  async signedRoot(target: string, epoch: number, mode: EpochMode): Promise<SignedRoot | undefined> {
    return this.store.signedRoot(target, epoch, mode);
  }

  async recordSignedRoot(root: SignedRoot): Promise<SignedRoot> {
    return this.store.recordSignedRoot(root);
  }

  async inFlightSizes(
    target: string,
    fromEpoch: number,
    toEpoch: number,
    exceptEpoch: number,
  ): Promise<Map<string, number>> {
    return this.store.inFlightSizes(target, fromEpoch, toEpoch, exceptEpoch);
  }

  async epoch(target: string, epoch: number, mode: EpochMode, node: string): Promise<EpochRecord | undefined> {
    return this.store.epoch(target, epoch, mode, node);
  }

  async markEpoch(
    target: string,
    epoch: number,
    mode: EpochMode,
    node: string,
    status: 'abandoned' | 'empty',
    nowMs: number,
  ): Promise<void> {
    this.store.markEpoch(target, epoch, mode, node, status, nowMs);
  }

  async recordFinalized(
    f: EpochFinalization,
    ownNamespaces: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<FinalizedOutcome> {
    return this.store.recordFinalized(f, ownNamespaces, nowMs);
  }

  async epochs(target: string, beforeEpoch: number, limit: number): Promise<EpochRecord[]> {
    return this.store.epochs(target, beforeEpoch, limit);
  }

  async lastFinalized(target: string): Promise<EpochRecord | undefined> {
    return this.store.lastFinalized(target);
  }

  async anchorsCovering(origin: string, index: number): Promise<CoveringAnchor[]> {
    return this.store.anchorsCovering(origin, index);
  }

  async bump(name: string, label: string, by = 1): Promise<void> {
    this.store.bump(name, label, by);
  }

  async counters(): Promise<Map<string, Map<string, number>>> {
    return this.store.counters();
  }

  async recordFailure(target: string, epoch: number | null, reason: string, nowMs: number): Promise<void> {
    this.store.recordFailure(target, epoch, reason, nowMs);
  }

  async failures(target: string, limit = 20): Promise<AnchorFailure[]> {
    return this.store.failures(target, limit);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
