import type { PgDatabase } from '../../storage/postgres/pg-database.js';
import { pgCountSource } from '../pg-count-source.js';
import { firstPerKeySql } from '../pg-loose-scan.js';
import type { StreamCountSource } from '../stream-counter.js';
import type { OutboxCountReads, OutboxCountRow, OutboxStreamKey } from './stream-counts.js';

const STREAMS = firstPerKeySql({
  table: 'outbox_messages',
  keys: ['namespace', 'target_node', 'target_namespace'],
  order: 'seq',
});
const STREAM = 'namespace = $1 AND target_node = $2 AND target_namespace = $3';
const keyOf = (s: OutboxStreamKey) => [s.namespace, s.target_node, s.target_namespace];

/**
 * The outbox's counts over its PostgreSQL tables (PgOutboxStorage's database): new
 * OutboxStreamCounts(pgOutboxCountSource(db)). Every query runs on the UNIQUE (namespace,
 * target_node, target_namespace, seq) index, as on SQLite.
 */
export function pgOutboxCountSource(db: PgDatabase): StreamCountSource<OutboxCountReads> {
  return pgCountSource(db, (tx) => ({
    streams: () => tx.rows<OutboxStreamKey>(STREAMS),
    rowsAfter: (s, seq, limit) =>
      tx.rows<OutboxCountRow>(
        `SELECT seq, state, expires_at FROM outbox_messages WHERE ${STREAM} AND seq > $4 ORDER BY seq LIMIT $5`,
        [...keyOf(s), seq, limit],
      ),
    lastSeq: async (s) =>
      (await tx.row<{ m: number }>(`SELECT max(seq) AS m FROM outbox_messages WHERE ${STREAM}`, keyOf(s)))!.m,
  }));
}
