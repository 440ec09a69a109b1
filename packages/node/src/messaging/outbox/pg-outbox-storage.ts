import type { PgDatabase } from '../../storage/postgres/pg-database.js';
import type { WriteFence } from '../../storage/postgres/write-fence.js';
import { toColumns } from '../pg-columns.js';
import { PgStoreHandle } from '../../storage/postgres/pg-store-handle.js';
import { firstPerKeySql } from '../pg-loose-scan.js';
import {
  LANE_WHERE,
  OUTBOX_COLUMNS,
  sentValues,
  streamOf,
  toOutboxRow,
  updateValues,
  type MessageRecord,
} from './outbox-record.js';
import type { OutboxRow, RowUpdate, StreamRef } from './outbox-row.js';
import type { DeliveryLane, OutboxStorage, ScannedRange, StreamHead } from './outbox-storage.js';
import { PG_OUTBOX_SCHEMA } from './pg-outbox-schema.js';

export interface PgOutboxStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in every write transaction (the sequencing lease); NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

/** Columns recordSent inserts (error, delivery and receipt start NULL), with their types for unnest. */
const SENT_COLUMNS: ReadonlyArray<[name: string, type: string]> = [
  ['id', 'text'],
  ['namespace', 'text'],
  ['idx', 'bigint'],
  ['target_node', 'text'],
  ['target_namespace', 'text'],
  ['seq', 'bigint'],
  ['action', 'text'],
  ['operation', 'text'],
  ['sent_at', 'text'],
  ['expires_at', 'text'],
  ['in_reply_to', 'text'],
  ['state', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_ms', 'bigint'],
  ['receipt_attempts', 'integer'],
];
/** Positions of SENT_COLUMNS in sentValues()'s OUTBOX_COLUMNS order. */
const SENT_POSITIONS = SENT_COLUMNS.map(([name]) => OUTBOX_COLUMNS.split(', ').indexOf(name));

/** update()'s columns, in updateValues() order (id last). */
const UPDATE_COLUMNS: ReadonlyArray<[name: string, type: string]> = [
  ['state', 'text'],
  ['attempts', 'integer'],
  ['next_attempt_ms', 'bigint'],
  ['error_code', 'text'],
  ['error_message', 'text'],
  ['delivery_index', 'bigint'],
  ['delivery_entry', 'text'],
  ['receipt', 'text'],
  ['receipt_attempts', 'integer'],
  ['id', 'text'],
];

/** `unnest($1::t1[], $2::t2[], …) WITH ORDINALITY AS alias(c1, c2, …, ord)`. */
function unnestOf(columns: ReadonlyArray<[string, string]>, alias: string): string {
  const args = columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(', ');
  return `unnest(${args}) WITH ORDINALITY AS ${alias}(${columns.map(([n]) => n).join(', ')}, ord)`;
}

const INSERT_SENT = `
  INSERT INTO outbox_messages (${SENT_COLUMNS.map(([n]) => n).join(', ')})
  SELECT ${SENT_COLUMNS.map(([n]) => n).join(', ')} FROM ${unnestOf(SENT_COLUMNS, 'r')} ORDER BY ord
  ON CONFLICT DO NOTHING RETURNING id`;

const UPDATE_ROWS = `
  UPDATE outbox_messages m SET ${UPDATE_COLUMNS.filter(([n]) => n !== 'id')
    .map(([n]) => `${n} = u.${n}`)
    .join(', ')}
  FROM ${unnestOf(UPDATE_COLUMNS, 'u')} WHERE m.id = u.id`;

/**
 * The first row in the lane of each stream, in stream order: a seek per stream in the lane's
 * partial index (stream, seq), as the SQLite store steps from stream to stream, in one round trip.
 */
function headsSql(lane: DeliveryLane): string {
  return firstPerKeySql({
    table: 'outbox_messages',
    keys: ['namespace', 'target_node', 'target_namespace'],
    order: 'seq',
    where: LANE_WHERE[lane],
    extra: ['next_attempt_ms'],
  });
}

const HEADS: Record<DeliveryLane, string> = { deliver: headsSql('deliver'), receipt: headsSql('receipt') };

/** The last of several updates of one row wins, as when they run one after another. */
function lastPerId(updates: readonly RowUpdate[]): RowUpdate[] {
  return [...new Map(updates.map((u) => [u.id, u])).values()];
}

/**
 * OutboxStorage on PostgreSQL (issue 14): the same rows and answers as the SQLite OutboxStore, in
 * a database several front ends share. Batches go in one statement (recordSent's rows, update()'s
 * updates: unnest), so the messaging path costs a round trip per batch, not per message. Every
 * write transaction checks the write fence first.
 */
export class PgOutboxStorage implements OutboxStorage {
  readonly #handle: PgStoreHandle;

  private constructor(handle: PgStoreHandle) {
    this.#handle = handle;
  }

  /** Connects (if given a URL) and brings the outbox's tables to the current version. */
  static async open(options: PgOutboxStorageOptions): Promise<PgOutboxStorage> {
    return new PgOutboxStorage(await PgStoreHandle.open(options, PG_OUTBOX_SCHEMA));
  }

  /**
   * One transaction under the advisory lock 'outbox:record' (recordSent's form of SQLite's
   * IMMEDIATE): the rows go in with one INSERT … ON CONFLICT DO NOTHING, and the scan marks are
   * read, moved range by range as on SQLite, and written back with one upsert (GREATEST: a mark
   * never moves back).
   */
  async recordSent(rows: readonly OutboxRow[], scanned: readonly ScannedRange[] = []): Promise<OutboxRow[]> {
    return this.#handle.db.transaction(
      async (tx) => {
        await this.#handle.fence.check(tx);
        let added: OutboxRow[] = [];
        if (rows.length > 0) {
          const values = rows.map((r) => {
            const all = sentValues(r);
            return SENT_POSITIONS.map((p) => all[p]!);
          });
          const inserted = await tx.rows<{ id: string }>(INSERT_SENT, toColumns(values, SENT_COLUMNS.length));
          const fresh = new Set(inserted.map((r) => r.id));
          // A row given twice is new once, the first time (as SQLite's INSERT OR IGNORE row by row).
          added = rows.filter((r) => fresh.delete(r.id));
        }
        if (scanned.length > 0) {
          const namespaces = [...new Set(scanned.map((r) => r.namespace))];
          const marks = new Map(
            (
              await tx.rows<{ namespace: string; next_index: number }>(
                'SELECT namespace, next_index FROM outbox_scan WHERE namespace = ANY($1::text[])',
                [namespaces],
              )
            ).map((m) => [m.namespace, m.next_index]),
          );
          const moved = new Map<string, number>();
          for (const r of scanned) {
            const mark = marks.get(r.namespace) ?? 0;
            if (mark < r.from) continue;
            marks.set(r.namespace, Math.max(mark, r.to));
            moved.set(r.namespace, Math.max(mark, r.to));
          }
          if (moved.size > 0) {
            await tx.run(
              `INSERT INTO outbox_scan (namespace, next_index) SELECT * FROM unnest($1::text[], $2::bigint[])
               ON CONFLICT (namespace) DO UPDATE SET next_index = GREATEST(outbox_scan.next_index, EXCLUDED.next_index)`,
              [[...moved.keys()], [...moved.values()]],
            );
          }
        }
        return added;
      },
      { lock: 'outbox:record' },
    );
  }

  async scanMark(namespace: string): Promise<number> {
    const r = await this.#handle.db.row<{ next_index: number }>(
      'SELECT next_index FROM outbox_scan WHERE namespace = $1',
      [namespace],
    );
    return r?.next_index ?? 0;
  }

  async streamSeqs(): Promise<Array<StreamRef & { seq: number }>> {
    const rows = await this.#handle.db.rows<{
      namespace: string;
      target_node: string;
      target_namespace: string;
      seq: number;
    }>(
      `SELECT namespace, target_node, target_namespace, max(seq) AS seq FROM outbox_messages
       GROUP BY namespace, target_node, target_namespace ORDER BY namespace, target_node, target_namespace`,
    );
    return rows.map((r) => ({ ...streamOf(r), seq: r.seq }));
  }

  async queuedNamespaces(): Promise<string[]> {
    const rows = await this.#handle.db.rows<{ namespace: string }>(
      `SELECT DISTINCT namespace FROM outbox_messages WHERE state = 'queued' ORDER BY namespace`,
    );
    return rows.map((r) => r.namespace);
  }

  async markSealed(namespace: string, size: number, dueMs: number): Promise<number> {
    return this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
      return tx.run(
        `UPDATE outbox_messages SET state = 'sealed', next_attempt_ms = $1
         WHERE namespace = $2 AND state = 'queued' AND idx < $3`,
        [dueMs, namespace, size],
      );
    });
  }

  async heads(lane: DeliveryLane): Promise<StreamHead[]> {
    const rows = await this.#handle.db.rows<{
      namespace: string;
      target_node: string;
      target_namespace: string;
      next_attempt_ms: number;
    }>(HEADS[lane]);
    return rows.map((r) => ({ ...streamOf(r), nextAttemptMs: r.next_attempt_ms }));
  }

  async streamRows(lane: DeliveryLane, stream: StreamRef, limit: number, afterSeq = 0): Promise<OutboxRow[]> {
    const rows = await this.#handle.db.rows<MessageRecord>(
      `SELECT ${OUTBOX_COLUMNS} FROM outbox_messages
       WHERE ${LANE_WHERE[lane]} AND namespace = $1 AND target_node = $2 AND target_namespace = $3 AND seq > $4
       ORDER BY seq LIMIT $5`,
      [stream.namespace, stream.target.node, stream.target.namespace, afterSeq, limit],
    );
    return rows.map(toOutboxRow);
  }

  /** One UPDATE … FROM unnest for the whole batch, in one fenced transaction. */
  async update(updates: readonly RowUpdate[]): Promise<void> {
    if (updates.length === 0) return;
    const values = lastPerId(updates).map(updateValues);
    await this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
      await tx.run(UPDATE_ROWS, toColumns(values, UPDATE_COLUMNS.length));
    });
  }

  async row(id: string): Promise<OutboxRow | undefined> {
    const r = await this.#handle.db.row<MessageRecord>(`SELECT ${OUTBOX_COLUMNS} FROM outbox_messages WHERE id = $1`, [
      id,
    ]);
    return r === undefined ? undefined : toOutboxRow(r);
  }

  async replies(queryId: string): Promise<string[]> {
    const rows = await this.#handle.db.rows<{ reply_id: string }>(
      'SELECT reply_id FROM outbox_replies WHERE query_id = $1 ORDER BY reply_id',
      [queryId],
    );
    return rows.map((r) => r.reply_id);
  }

  async addReply(queryId: string, replyId: string): Promise<void> {
    await this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
      await tx.run('INSERT INTO outbox_replies (query_id, reply_id) VALUES ($1, $2) ON CONFLICT DO NOTHING', [
        queryId,
        replyId,
      ]);
    });
  }

  /** Closes the pool if the storage opened it; a shared PgDatabase is left open. Idempotent. */
  async close(): Promise<void> {
    await this.#handle.close();
  }
}
