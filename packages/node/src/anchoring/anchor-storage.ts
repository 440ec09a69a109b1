import type {
  AnchorFailure,
  CoveringAnchor,
  DueNamespace,
  EpochMode,
  EpochRecord,
  FinalizedOutcome,
  SignedRoot,
} from './anchor-records.js';
import type { ChainJournalStorage } from './chain/chain-journal-storage.js';
import type { EpochFinalization } from './epoch-finalization.js';

/** A cadence due event as anchoring records it seen (crash replay compares against it). */
export interface DueEventSeen {
  readonly namespace: string;
  readonly level: string;
  readonly target: string;
  readonly dueAtMs: number;
}

/**
 * What handling one due event does to the store, besides marking it seen: queue the namespace
 * (and count it under 'due'), count a skip under 'skips' with its label, or nothing (a namespace
 * that no longer exists).
 */
export type DueEffect =
  | { readonly kind: 'queue'; readonly namespace: string; readonly sealedSize: number }
  | { readonly kind: 'skip'; readonly label: string }
  | { readonly kind: 'none' };

/**
 * A node's anchoring state behind one interface for both backends (issue 14): AnchorStore on its
 * SQLite file (SqliteAnchorStorage), or tables in the node's PostgreSQL database shared by its
 * front ends (PgAnchorStorage). What is due where, what is anchored, the one root signed per
 * epoch, every epoch outcome, counters and failures; `chain` is the chain anchor journal, in the
 * same database (its in-flight view joins the epoch outcomes).
 *
 * Operations that read, decide and write are single operations here, atomic against every other
 * caller of the same database (other front ends included); the comment of each says how.
 * Errors: STORAGE_FAILURE for the storage, SHUTTING_DOWN after close(), EPOCH_CONFLICT from
 * recordFinalized.
 */
export interface AnchorStorage {
  readonly chain: ChainJournalStorage;

  /** Queues `namespace` at `target`; a namespace already queued keeps its due time and the larger sealed size. */
  markDue(target: string, namespace: string, dueAtMs: number, sealedSize: number): Promise<void>;

  /** The latest cadence due time handled for this level and target, if any (crash recovery). */
  dueSeen(namespace: string, level: string, target: string): Promise<number | undefined>;

  /** Raises the due time seen for this level and target (never lowers it). */
  markDueSeen(namespace: string, level: string, target: string, dueAtMs: number): Promise<void>;

  /**
   * Handles one cadence due event: applies `effect` (queue with its 'due' counter, or a counted
   * skip) and marks the event seen, in ONE transaction — the queueing, its counter and the seen
   * mark commit together or not at all, so a crash replay never double-queues half an event.
   */
  handleDue(event: DueEventSeen, effect: DueEffect): Promise<void>;

  /** Takes the namespace out of the target's queue, whatever its sealed size (the namespace is gone). */
  clearDue(target: string, namespace: string): Promise<void>;

  /**
   * Takes the namespace out of the target's queue only if its sealed size is at most
   * `anchoredSize` (what is anchored satisfies it). A compare-and-delete in one statement or
   * transaction: a due raised meanwhile by another caller (markDue, larger sealed size) stays.
   * Resolves to whether it was cleared.
   */
  clearDueSatisfied(target: string, namespace: string, anchoredSize: number): Promise<boolean>;

  /** The target's queue, by namespace (binary order). */
  due(target: string): Promise<DueNamespace[]>;

  dueCount(target: string): Promise<number>;

  /** The largest size of `origin` anchored at `target`, 0 if none. */
  anchoredSize(target: string, origin: string): Promise<number>;

  signedRoot(target: string, epoch: number, mode: EpochMode): Promise<SignedRoot | undefined>;

  /**
   * Records the root this node signs for (target, epoch, mode), unless one is recorded: then that
   * one is returned and nothing is written. Atomic insert-if-absent: of callers racing for one
   * epoch (front ends included) exactly one records its root and every one gets that root back.
   */
  recordSignedRoot(root: SignedRoot): Promise<SignedRoot>;

  /**
   * Largest size per origin in collaborative roots this node signed for epochs in
   * [fromEpoch, toEpoch] other than exceptEpoch whose outcome it does not know yet: leaves in flight.
   */
  inFlightSizes(target: string, fromEpoch: number, toEpoch: number, exceptEpoch: number): Promise<Map<string, number>>;

  epoch(target: string, epoch: number, mode: EpochMode, node: string): Promise<EpochRecord | undefined>;

  /**
   * Marks an epoch abandoned or empty, unless it is finalized: atomic against recordFinalized,
   * so a finalization is never undone, whichever commits first.
   */
  markEpoch(
    target: string,
    epoch: number,
    mode: EpochMode,
    node: string,
    status: 'abandoned' | 'empty',
    nowMs: number,
  ): Promise<void>;

  /**
   * Stores a finalized epoch (checked by the caller) with its leaves, advances what is anchored
   * and clears the dues of `ownNamespaces` (origin → namespace) it satisfies. An epoch finalized
   * already: the same evidence is 'same', other evidence for its root is kept as a duplicate,
   * another root is EPOCH_CONFLICT. One transaction serialised per epoch: of callers racing to
   * finalize one epoch exactly one gets 'new'.
   */
  recordFinalized(
    f: EpochFinalization,
    ownNamespaces: ReadonlyMap<string, string>,
    nowMs: number,
  ): Promise<FinalizedOutcome>;

  /** Epochs of `target` before `beforeEpoch` (exclusive), newest first (then mode, node). */
  epochs(target: string, beforeEpoch: number, limit: number): Promise<EpochRecord[]>;

  lastFinalized(target: string): Promise<EpochRecord | undefined>;

  /** Finalized epochs whose leaf for `origin` has a size above `index` (so it covers that entry), by target, epoch, mode, node. */
  anchorsCovering(origin: string, index: number): Promise<CoveringAnchor[]>;

  /** Adds `by` to a counter (an atomic increment: concurrent bumps all count). */
  bump(name: string, label: string, by?: number): Promise<void>;

  /** Every counter: name → label → value. */
  counters(): Promise<Map<string, Map<string, number>>>;

  /**
   * Records a failure (reason cut to FAILURE_REASON_CHARS), keeps the target's latest
   * FAILURES_KEPT and bumps its 'failures' counter, in one transaction.
   */
  recordFailure(target: string, epoch: number | null, reason: string, nowMs: number): Promise<void>;

  /** The target's latest failures, newest first. */
  failures(target: string, limit?: number): Promise<AnchorFailure[]>;

  /** Idempotent; every later operation is SHUTTING_DOWN. */
  close(): Promise<void>;
}
