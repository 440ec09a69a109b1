import type { OutboxRow, RowUpdate, StreamRef } from './outbox-row.js';

/**
 * The two kinds of work on a stream: `deliver` sends sealed messages in seq order; `receipt`
 * sends delivered messages again to fetch the delivery receipt the first answer lacked (a
 * duplicate answer carries it). They are separate so a receipt being waited for never holds back
 * the next messages of its stream.
 */
export type DeliveryLane = 'deliver' | 'receipt';

/** Entries [from, to) of a namespace's log, all looked at for messages. */
export interface ScannedRange {
  namespace: string;
  from: number;
  to: number;
}

/** A stream with work in a lane, and when its first message in that lane is due. */
export interface StreamHead extends StreamRef {
  nextAttemptMs: number;
}

/**
 * The outbox's rows, on either backend (SQLite: SqliteOutboxStorage; PostgreSQL:
 * PgOutboxStorage), as the outbox and its delivery worker use them. Every operation is atomic on
 * its own; none of the outbox's callers reads a row and writes it back expecting nothing to
 * have changed in between except the delivery worker's update(), which is the lease holder's
 * work alone (one deliverer per node: the write fence keeps a former holder out). Failures are
 * STORAGE_FAILURE; use after close() is SHUTTING_DOWN.
 */
export interface OutboxStorage {
  /**
   * Records rows of messages found in the source log and moves scan marks, in one transaction;
   * rows already held (same id, the same seq of the stream, or the same log index) are kept as
   * they are. For each scanned range, in order, the namespace's scan mark moves to its end when it
   * stood at its start or beyond. Returns the rows that were new. Atomic across processes: two
   * callers recording the same rows at once add each row once, and each is returned to one of them.
   */
  recordSent(rows: readonly OutboxRow[], scanned?: readonly ScannedRange[]): Promise<OutboxRow[]>;
  /** Every entry of the namespace's log below this index has been looked at for messages (0 if never scanned). */
  scanMark(namespace: string): Promise<number>;
  /** The highest seq used in each stream. */
  streamSeqs(): Promise<Array<StreamRef & { seq: number }>>;
  /** Namespaces with messages waiting for a sealed checkpoint. */
  queuedNamespaces(): Promise<string[]>;
  /** Messages of the namespace at indices below `size` still queued become sealed, due at `dueMs`. Returns how many. */
  markSealed(namespace: string, size: number, dueMs: number): Promise<number>;
  /** The streams with work in the lane, in stream order (byte order of the keys), each with its first message's due time. */
  heads(lane: DeliveryLane): Promise<StreamHead[]>;
  /** The stream's first `limit` messages in the lane after seq `afterSeq`, in seq order. */
  streamRows(lane: DeliveryLane, stream: StreamRef, limit: number, afterSeq?: number): Promise<OutboxRow[]>;
  /** Writes what delivery attempts changed, in one transaction (rows not there are skipped). */
  update(updates: readonly RowUpdate[]): Promise<void>;
  row(id: string): Promise<OutboxRow | undefined>;
  /** Ids of the messages received in answer to `queryId`, in id order. */
  replies(queryId: string): Promise<string[]>;
  /** Links a reply to its query (once: a second call does nothing). */
  addReply(queryId: string, replyId: string): Promise<void>;
  /** Idempotent. */
  close(): Promise<void>;
}
