import type { ErrorCode } from '@vaultmesh/core';
import type { Admission } from './inbox-admission.js';
import type { InboxRow, NewInboxRow, StoredInboxItem } from './inbox-record.js';

/** A row's key: the source log's origin and the entry's index there (the key of exactly-once). */
interface RowKey {
  sourceOrigin: string;
  sourceIndex: number;
}

/** One row's change of state; each is a compare-and-set on the state it names as `from`. */
export type InboxTransition = RowKey &
  (
    | /** held → applying: the intent, with the delivery record planned (absent for a `record` entry appended first). */
      { to: 'applying'; delivery?: string }
      /** applying with no record entry yet → applying, its `record` entry at `recordIndex` (and the delivery record planned). */
    | { to: 'recorded'; recordIndex: number; delivery?: string }
    /** applying → applied, its delivery record at `deliveryIndex`; `listed`: also an item of the application inbox. */
    | { to: 'applied'; delivery: string; deliveryIndex: number; recordIndex?: number; listed: boolean }
    /** held → refused, for good. */
    | { to: 'refused'; code: ErrorCode; message: string }
    /** applying → held: the append did not happen; `recordIndex`: a `record` entry found meanwhile, now known. */
    | { to: 'held'; recordIndex?: number }
  );

/** The state a transition expects its row in. */
export const TRANSITION_FROM = {
  applying: 'held',
  recorded: 'applying',
  applied: 'applying',
  refused: 'held',
  held: 'applying',
} as const;

/**
 * One atomic write of the inbox in one target namespace: every write the inbox makes (a run's
 * intents and refusals, their outcomes, reconciliation at open) is one of these.
 */
export interface InboxSettlement {
  namespace: string;
  /** At most one per row. */
  transitions: readonly InboxTransition[];
  /** Source origins whose streams (into `namespace`) then move their next seq past every settled row. */
  advance: readonly string[];
  /** The namespace's scan mark, if it has none yet (the namespace's first intent). */
  initialScanMark?: number;
  /** Raises the namespace's scan mark to this (never lowers it). */
  raiseScanMark?: number;
}

/**
 * The inbox's state, on either backend (SQLite: SqliteInboxStorage; PostgreSQL: PgInboxStorage).
 *
 * Atomicity. Front ends of one node may receive the same stream at once, so the operations that
 * read and then write are single operations here: admit() decides and stores a batch of offered
 * messages in one transaction, and settle() applies state transitions (each a compare-and-set on
 * the row's state: a row not in the expected state fails the whole settlement with
 * STORAGE_FAILURE, writing nothing — the form a lost race takes) and moves the streams past what
 * settled, in one transaction. On PostgreSQL both take the streams' advisory locks, the form of
 * SQLite's IMMEDIATE transaction. Failures are STORAGE_FAILURE; use after close() is SHUTTING_DOWN.
 */
export interface InboxStorage {
  /** The id of the message received as entry `sourceIndex` of `sourceOrigin`, if any. */
  messageIdAt(sourceOrigin: string, sourceIndex: number): Promise<string | undefined>;
  get(sourceOrigin: string, sourceIndex: number): Promise<InboxRow | undefined>;
  /** The row holding `seq` of the stream, if any. */
  bySeq(namespace: string, sourceOrigin: string, seq: number): Promise<InboxRow | undefined>;
  /** Rows of the stream from `seq` on, in seq order, at most `limit` (gaps included). */
  streamFrom(namespace: string, sourceOrigin: string, seq: number, limit: number): Promise<InboxRow[]>;
  /** The seq the stream applies next (1 for a stream never seen). */
  nextSeq(namespace: string, sourceOrigin: string): Promise<number>;
  /**
   * Offers messages of one stream (all of `namespace` from `sourceOrigin`): decided in order by
   * decideAdmission against what the stream holds, the `held` ones stored, all in one transaction.
   * One answer per message, in order. Two callers offering the same entry at once: one stores it,
   * the other finds it `known`.
   */
  admit(namespace: string, sourceOrigin: string, messages: readonly NewInboxRow[]): Promise<Admission[]>;
  /** Applies a settlement as one transaction (see InboxSettlement); all of it or, on any failure, none. */
  settle(settlement: InboxSettlement): Promise<void>;
  /** Items of the namespace's application inbox after cursor `after`, oldest first. */
  items(namespace: string, after: number, limit: number): Promise<StoredInboxItem[]>;
  /** The newest cursor of the namespace's inbox (0 when empty). */
  lastCursor(namespace: string): Promise<number>;
  /** Where reconciliation scans the namespace's log from; undefined: no delivery was ever attempted there. */
  scanMark(namespace: string): Promise<number | undefined>;
  /** Indexes of the namespace's log from `from` on that hold the `record` entry of a message, ascending. */
  recordIndexesFrom(namespace: string, from: number): Promise<number[]>;
  /** Every intent not yet resolved, by namespace and stream order. */
  applyingRows(): Promise<InboxRow[]>;
  /** Idempotent. */
  close(): Promise<void>;
}
