import type Database from 'better-sqlite3';
import { GuardedConnection } from '../../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../../storage/sqlite/sqlite-file.js';
import { migrateOutboxDb } from './outbox-schema.js';
import type { OutboxRow, RowUpdate, StreamRef } from './outbox-row.js';
import {
  LANE_WHERE,
  OUTBOX_COLUMNS as COLUMNS,
  sentValues,
  streamOf,
  toOutboxRow as toRow,
  updateValues,
  type MessageRecord,
} from './outbox-record.js';
import type { DeliveryLane, ScannedRange, StreamHead } from './outbox-storage.js';

// The lane and scan types live with the storage interface, shared by both backends.
export type { DeliveryLane, ScannedRange, StreamHead } from './outbox-storage.js';

/** File name of the outbox database inside the node's data directory. */
export const OUTBOX_DB_FILE = 'outbox.sqlite';

/** SQLite's largest integer: above every seq, so a key (stream, this) sorts after all of the stream's rows. */
const SQLITE_MAX_INTEGER = '9223372036854775807';

/**
 * The outbox on its own SQLite file (`outbox.sqlite`): WAL with synchronous FULL, so a delivery
 * the outbox recorded is never forgotten after power loss. Only the rows are stored, not the
 * messages: each message is its entry in the source log, read from there when it travels.
 */
export class OutboxStore {
  readonly path: string;
  readonly #conn: GuardedConnection;
  readonly #s: Record<
    | 'insert'
    | 'scanMark'
    | 'setScanMark'
    | 'streamSeqs'
    | 'queuedNamespaces'
    | 'markSealed'
    | 'update'
    | 'row'
    | 'replies'
    | 'addReply',
    Database.Statement
  >;
  readonly #heads: Record<DeliveryLane, Database.Statement>;
  readonly #streamRows: Record<DeliveryLane, Database.Statement>;

  /** The file's directory is created (mode 0700) if missing; ':memory:' for a throwaway store. */
  constructor(path: string) {
    this.path = path;
    const db = openDurableDatabase(path, 'outbox');
    try {
      migrateOutboxDb(db);
      this.#s = {
        insert: db.prepare(
          `INSERT OR IGNORE INTO outbox_messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ),
        scanMark: db.prepare('SELECT next_index FROM outbox_scan WHERE namespace = ?').pluck(),
        setScanMark: db.prepare(
          `INSERT INTO outbox_scan (namespace, next_index) VALUES (?, ?)
           ON CONFLICT (namespace) DO UPDATE SET next_index = max(next_index, excluded.next_index)`,
        ),
        streamSeqs: db.prepare(
          `SELECT namespace, target_node, target_namespace, max(seq) AS seq FROM outbox_messages
           GROUP BY namespace, target_node, target_namespace`,
        ),
        queuedNamespaces: db.prepare(`SELECT DISTINCT namespace FROM outbox_messages WHERE state = 'queued'`).pluck(),
        markSealed: db.prepare(
          `UPDATE outbox_messages SET state = 'sealed', next_attempt_ms = ?
           WHERE namespace = ? AND state = 'queued' AND idx < ?`,
        ),
        update: db.prepare(
          `UPDATE outbox_messages SET state = ?, attempts = ?, next_attempt_ms = ?, error_code = ?, error_message = ?,
             delivery_index = ?, delivery_entry = ?, receipt = ?, receipt_attempts = ? WHERE id = ?`,
        ),
        row: db.prepare(`SELECT ${COLUMNS} FROM outbox_messages WHERE id = ?`),
        replies: db.prepare('SELECT reply_id FROM outbox_replies WHERE query_id = ? ORDER BY reply_id').pluck(),
        addReply: db.prepare('INSERT OR IGNORE INTO outbox_replies (query_id, reply_id) VALUES (?, ?)'),
      };
      // The first message in the lane of the first stream after a given one: a seek in the lane's
      // partial index (stream, seq), past every seq of that stream. heads() steps from stream to
      // stream with it, so a pass costs a seek per stream, not a read of every row in the lane
      // (a GROUP BY read them all, ~20 ms a pass with 20,000 messages waiting).
      const heads = (lane: DeliveryLane) =>
        db.prepare(
          `SELECT namespace, target_node, target_namespace, next_attempt_ms FROM outbox_messages
           WHERE ${LANE_WHERE[lane]}
             AND (namespace, target_node, target_namespace, seq) > (?, ?, ?, ${SQLITE_MAX_INTEGER})
           ORDER BY namespace, target_node, target_namespace, seq LIMIT 1`,
        );
      this.#heads = { deliver: heads('deliver'), receipt: heads('receipt') };
      const rows = (lane: DeliveryLane) =>
        db.prepare(
          `SELECT ${COLUMNS} FROM outbox_messages
           WHERE ${LANE_WHERE[lane]} AND namespace = ? AND target_node = ? AND target_namespace = ? AND seq > ?
           ORDER BY seq LIMIT ?`,
        );
      this.#streamRows = { deliver: rows('deliver'), receipt: rows('receipt') };
    } catch (cause) {
      db.close();
      throw storageFailure(`cannot initialise outbox database ${path}`, cause);
    }
    this.#conn = new GuardedConnection(db, 'outbox');
  }

  /**
   * Records rows of messages found in the source log, in one transaction; rows already held (same
   * id, or the same seq of the stream) are kept as they are. For each scanned range, the
   * namespace's scan mark moves to its end when it stood at its start or beyond: every entry below
   * it has then been looked at. Returns the rows that were new.
   */
  recordSent(rows: readonly OutboxRow[], scanned: readonly ScannedRange[] = []): OutboxRow[] {
    return this.#conn.atomically(() => {
      const added: OutboxRow[] = [];
      for (const r of rows) {
        const info = this.#s.insert.run(...sentValues(r));
        if (info.changes > 0) added.push(r);
      }
      for (const r of scanned) {
        if (((this.#s.scanMark.get(r.namespace) as number | undefined) ?? 0) >= r.from)
          this.#s.setScanMark.run(r.namespace, r.to);
      }
      return added;
    });
  }

  /** Every entry of the namespace's log below this index has been looked at for messages. */
  scanMark(namespace: string): number {
    return this.#conn.read(() => (this.#s.scanMark.get(namespace) as number | undefined) ?? 0);
  }

  /** The highest seq used in each stream. */
  streamSeqs(): Array<StreamRef & { seq: number }> {
    return this.#conn.read(() =>
      (
        this.#s.streamSeqs.all() as Array<{
          namespace: string;
          target_node: string;
          target_namespace: string;
          seq: number;
        }>
      ).map((r) => ({ ...streamOf(r), seq: r.seq })),
    );
  }

  /** Namespaces with messages waiting for a sealed checkpoint. */
  queuedNamespaces(): string[] {
    return this.#conn.read(() => this.#s.queuedNamespaces.all() as string[]);
  }

  /** Messages of the namespace at indices below `size` (a sealed checkpoint's) are sealed, due at `dueMs`. Returns how many. */
  markSealed(namespace: string, size: number, dueMs: number): number {
    return this.#conn.run('outbox write failed', () => this.#s.markSealed.run(dueMs, namespace, size).changes);
  }

  /** The streams with work in the lane, in stream order, each with its first message's due time. */
  heads(lane: DeliveryLane): StreamHead[] {
    return this.#conn.read(() => {
      const found: StreamHead[] = [];
      // '' sorts before every namespace id: the first seek finds the first stream.
      let after = ['', '', ''];
      for (;;) {
        const r = this.#heads[lane].get(...after) as
          { namespace: string; target_node: string; target_namespace: string; next_attempt_ms: number } | undefined;
        if (r === undefined) return found;
        found.push({ ...streamOf(r), nextAttemptMs: r.next_attempt_ms });
        after = [r.namespace, r.target_node, r.target_namespace];
      }
    });
  }

  /** The stream's first `limit` messages in the lane after seq `afterSeq`, in seq order. */
  streamRows(lane: DeliveryLane, stream: StreamRef, limit: number, afterSeq = 0): OutboxRow[] {
    return this.#conn.read(() =>
      (
        this.#streamRows[lane].all(
          stream.namespace,
          stream.target.node,
          stream.target.namespace,
          afterSeq,
          limit,
        ) as MessageRecord[]
      ).map(toRow),
    );
  }

  /** Writes what delivery attempts changed, in one transaction. */
  update(updates: readonly RowUpdate[]): void {
    if (updates.length === 0) return;
    this.#conn.atomically(() => {
      for (const u of updates) {
        this.#s.update.run(...updateValues(u));
      }
    });
  }

  row(id: string): OutboxRow | undefined {
    return this.#conn.read(() => {
      const r = this.#s.row.get(id) as MessageRecord | undefined;
      return r === undefined ? undefined : toRow(r);
    });
  }

  /** Ids of the messages received in answer to `queryId`, in id order. */
  replies(queryId: string): string[] {
    return this.#conn.read(() => this.#s.replies.all(queryId) as string[]);
  }

  addReply(queryId: string, replyId: string): void {
    this.#conn.run('outbox write failed', () => this.#s.addReply.run(queryId, replyId));
  }

  close(): void {
    this.#conn.close();
  }
}
