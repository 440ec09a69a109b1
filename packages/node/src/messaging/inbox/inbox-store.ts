import type Database from 'better-sqlite3';
import type { ErrorCode } from '@vaultmesh/core';
import { GuardedConnection } from '../../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../../storage/sqlite/sqlite-file.js';
import { migrateInboxDb } from './inbox-schema.js';
import {
  INBOX_COLUMNS as COLUMNS,
  INBOX_COLUMNS_OF_M,
  notInState,
  toInboxRow as toRow,
  type InboxRecord as RowRecord,
  type InboxRow,
  type InboxRowState,
  type NewInboxRow,
  type StoredInboxItem,
} from './inbox-record.js';

// The row types live with the storage interface's codec, shared by both backends.
export {
  INBOX_ROW_STATES,
  type InboxRow,
  type InboxRowState,
  type NewInboxRow,
  type StoredInboxItem,
} from './inbox-record.js';

/** File name of the inbox database inside the node's data directory. */
export const INBOX_DB_FILE = 'inbox.sqlite';

type StatementName =
  | 'get'
  | 'messageIdAt'
  | 'bySeq'
  | 'streamFrom'
  | 'insert'
  | 'applying'
  | 'recorded'
  | 'applied'
  | 'refused'
  | 'held'
  | 'nextSeq'
  | 'setNextSeq'
  | 'addItem'
  | 'items'
  | 'lastCursor'
  | 'mark'
  | 'setMark'
  | 'applyingRows'
  | 'recordIndexes';

/**
 * The inbox's state on its own SQLite file (WAL, synchronous FULL, like every store of the node):
 * what each stream applied, what it holds, the intents of appends under way, and the application
 * inbox. The target logs stay the truth for what was applied; this file says what is known of them
 * (see Inbox for the order of writes that keeps the two in step across a crash).
 */
export class InboxStore {
  readonly path: string;
  readonly #conn: GuardedConnection;
  readonly #s: Record<StatementName, Database.Statement>;

  /** The file's directory is created (mode 0700) if missing; ':memory:' for a throwaway store. */
  constructor(path: string, busyTimeoutMs?: number) {
    this.path = path;
    const db = openDurableDatabase(path, 'inbox', busyTimeoutMs);
    try {
      migrateInboxDb(db);
      this.#s = {
        get: db.prepare(`SELECT ${COLUMNS} FROM inbox_messages WHERE source_origin = ? AND source_index = ?`),
        messageIdAt: db
          .prepare('SELECT message_id FROM inbox_messages WHERE source_origin = ? AND source_index = ?')
          .pluck(),
        bySeq: db.prepare(
          `SELECT ${COLUMNS} FROM inbox_messages WHERE namespace = ? AND source_origin = ? AND seq = ?`,
        ),
        streamFrom: db.prepare(
          `SELECT ${COLUMNS} FROM inbox_messages WHERE namespace = ? AND source_origin = ? AND seq >= ?
           ORDER BY seq LIMIT ?`,
        ),
        insert: db.prepare(
          `INSERT INTO inbox_messages (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'held', NULL, NULL, NULL, NULL, NULL, ?)`,
        ),
        applying: db.prepare(
          `UPDATE inbox_messages SET state = 'applying', delivery = ? WHERE source_origin = ? AND source_index = ? AND state = 'held'`,
        ),
        recorded: db.prepare(
          `UPDATE inbox_messages SET record_index = ?, delivery = ?
           WHERE source_origin = ? AND source_index = ? AND state = 'applying' AND record_index IS NULL`,
        ),
        applied: db.prepare(
          `UPDATE inbox_messages SET state = 'applied', delivery = ?, delivery_index = ?, record_index = ?
           WHERE source_origin = ? AND source_index = ? AND state = 'applying'`,
        ),
        refused: db.prepare(
          `UPDATE inbox_messages SET state = 'refused', error_code = ?, error_message = ?
           WHERE source_origin = ? AND source_index = ? AND state = 'held'`,
        ),
        held: db.prepare(
          `UPDATE inbox_messages SET state = 'held', delivery = NULL WHERE source_origin = ? AND source_index = ? AND state = 'applying'`,
        ),
        nextSeq: db.prepare('SELECT next_seq FROM inbox_streams WHERE namespace = ? AND source_origin = ?').pluck(),
        setNextSeq: db.prepare(
          `INSERT INTO inbox_streams (namespace, source_origin, next_seq) VALUES (?, ?, ?)
           ON CONFLICT (namespace, source_origin) DO UPDATE SET next_seq = excluded.next_seq`,
        ),
        addItem: db.prepare(
          'INSERT OR IGNORE INTO inbox_items (namespace, source_origin, source_index) VALUES (?, ?, ?)',
        ),
        items: db.prepare(
          `SELECT i.cursor AS cursor, ${INBOX_COLUMNS_OF_M}
           FROM inbox_items i JOIN inbox_messages m
             ON m.source_origin = i.source_origin AND m.source_index = i.source_index
           WHERE i.namespace = ? AND i.cursor > ? ORDER BY i.cursor LIMIT ?`,
        ),
        lastCursor: db.prepare('SELECT max(cursor) FROM inbox_items WHERE namespace = ?').pluck(),
        mark: db.prepare('SELECT next_index FROM inbox_scan_marks WHERE namespace = ?').pluck(),
        setMark: db.prepare(
          `INSERT INTO inbox_scan_marks (namespace, next_index) VALUES (?, ?)
           ON CONFLICT (namespace) DO UPDATE SET next_index = max(next_index, excluded.next_index)`,
        ),
        applyingRows: db.prepare(
          `SELECT ${COLUMNS} FROM inbox_messages WHERE state = 'applying' ORDER BY namespace, source_origin, seq`,
        ),
        recordIndexes: db
          .prepare('SELECT record_index FROM inbox_messages WHERE namespace = ? AND record_index >= ?')
          .pluck(),
      };
    } catch (cause) {
      db.close();
      throw storageFailure(`cannot initialise inbox database ${path}`, cause);
    }
    this.#conn = new GuardedConnection(db, 'inbox');
  }

  /** Runs fn in one IMMEDIATE transaction; a throw rolls back everything fn wrote. */
  atomically<T>(fn: () => T): T {
    return this.#conn.atomically(fn);
  }

  /** The row of (source origin, index), the key of exactly-once. */
  /**
   * The id of the message received as entry `sourceIndex` of `sourceOrigin`, if any: get() without
   * reading the row's message and delivery texts (admitting a batch asks this of every message).
   */
  messageIdAt(sourceOrigin: string, sourceIndex: number): string | undefined {
    return this.#conn.read(() => this.#s.messageIdAt.get(sourceOrigin, sourceIndex) as string | undefined);
  }

  get(sourceOrigin: string, sourceIndex: number): InboxRow | undefined {
    return this.#conn.read(() => {
      const r = this.#s.get.get(sourceOrigin, sourceIndex) as RowRecord | undefined;
      return r && toRow(r);
    });
  }

  /** The row holding `seq` of the stream, if any. */
  bySeq(namespace: string, sourceOrigin: string, seq: number): InboxRow | undefined {
    return this.#conn.read(() => {
      const r = this.#s.bySeq.get(namespace, sourceOrigin, seq) as RowRecord | undefined;
      return r && toRow(r);
    });
  }

  /** Rows of the stream from `seq` on, in seq order, at most `limit` (gaps included: the caller looks for a run). */
  streamFrom(namespace: string, sourceOrigin: string, seq: number, limit: number): InboxRow[] {
    return this.#conn.read(() =>
      (this.#s.streamFrom.all(namespace, sourceOrigin, seq, limit) as RowRecord[]).map(toRow),
    );
  }

  /** The seq the stream applies next (1 for a stream never seen). */
  nextSeq(namespace: string, sourceOrigin: string): number {
    return this.#conn.read(() => (this.#s.nextSeq.get(namespace, sourceOrigin) as number | undefined) ?? 1);
  }

  setNextSeq(namespace: string, sourceOrigin: string, seq: number): void {
    this.#conn.run('inbox write failed', () => this.#s.setNextSeq.run(namespace, sourceOrigin, seq));
  }

  /** Stores a proven message as held; the primary key and the stream's seq index refuse a second one. */
  insertHeld(row: NewInboxRow): void {
    this.#conn.run('inbox write failed', () =>
      this.#s.insert.run(
        row.sourceOrigin,
        row.sourceIndex,
        row.messageId,
        row.namespace,
        row.seq,
        row.action,
        row.message,
        row.replyLinked ? 1 : 0,
        row.receivedMs,
      ),
    );
  }

  /**
   * held → applying: the intent, written before anything is appended. `delivery` is the delivery
   * record about to be appended; absent for a `record` message whose entry is appended first (its
   * delivery record names that entry's index, known only once it is in the log: markRecorded).
   */
  markApplying(sourceOrigin: string, sourceIndex: number, delivery: string | undefined): void {
    this.expectOne('held', this.#s.applying, delivery ?? null, sourceOrigin, sourceIndex);
  }

  /** applying, entry not yet known → applying, its `record` entry at `recordIndex` (and its delivery record planned). */
  markRecorded(sourceOrigin: string, sourceIndex: number, recordIndex: number, delivery?: string): void {
    this.expectOne('applying', this.#s.recorded, recordIndex, delivery ?? null, sourceOrigin, sourceIndex);
  }

  /** applying → applied, once the record is in the log at `deliveryIndex`. */
  markApplied(
    sourceOrigin: string,
    sourceIndex: number,
    delivery: string,
    deliveryIndex: number,
    recordIndex: number | undefined,
  ): void {
    this.expectOne(
      'applying',
      this.#s.applied,
      delivery,
      deliveryIndex,
      recordIndex ?? null,
      sourceOrigin,
      sourceIndex,
    );
  }

  /** held → refused, for good. */
  markRefused(sourceOrigin: string, sourceIndex: number, code: ErrorCode, message: string): void {
    this.expectOne('held', this.#s.refused, code, message, sourceOrigin, sourceIndex);
  }

  /**
   * applying → held: the append did not happen (it failed, or reconciliation did not find it). A
   * `record` entry already appended stays known (recordIndex): only its delivery record is owed.
   */
  markHeld(sourceOrigin: string, sourceIndex: number): void {
    this.expectOne('applying', this.#s.held, sourceOrigin, sourceIndex);
  }

  private expectOne(from: InboxRowState, statement: Database.Statement, ...params: unknown[]): void {
    const changes = this.#conn.run('inbox write failed', () => statement.run(...params).changes);
    if (changes !== 1) throw notInState(from, String(params.at(-2)), params.at(-1) as number);
  }

  /** Lists an applied message in the namespace's application inbox (once: a second call does nothing). */
  addItem(namespace: string, sourceOrigin: string, sourceIndex: number): void {
    this.#conn.run('inbox write failed', () => this.#s.addItem.run(namespace, sourceOrigin, sourceIndex));
  }

  /** Items of the namespace's application inbox after `after`, oldest first. */
  items(namespace: string, after: number, limit: number): StoredInboxItem[] {
    return this.#conn.read(() =>
      (this.#s.items.all(namespace, after, limit) as Array<RowRecord & { cursor: number }>).map((r) => ({
        cursor: r.cursor,
        row: toRow(r),
      })),
    );
  }

  /** The newest cursor of the namespace's inbox (0 when empty). */
  lastCursor(namespace: string): number {
    return this.#conn.read(() => (this.#s.lastCursor.get(namespace) as number | null) ?? 0);
  }

  /** Where reconciliation scans the namespace's log from; undefined: no delivery was ever attempted there. */
  scanMark(namespace: string): number | undefined {
    return this.#conn.read(() => this.#s.mark.get(namespace) as number | undefined);
  }

  /** Raises the scan mark (never lowers it). */
  raiseScanMark(namespace: string, nextIndex: number): void {
    this.#conn.run('inbox write failed', () => this.#s.setMark.run(namespace, nextIndex));
  }

  /** Indexes of the namespace's log from `from` on that hold the `record` entry of a message. */
  recordIndexesFrom(namespace: string, from: number): number[] {
    return this.#conn.read(() => this.#s.recordIndexes.all(namespace, from) as number[]);
  }

  /** Every intent not yet resolved (appends that were under way), by namespace and stream order. */
  applyingRows(): InboxRow[] {
    return this.#conn.read(() => (this.#s.applyingRows.all() as RowRecord[]).map(toRow));
  }

  close(): void {
    this.#conn.close();
  }
}
