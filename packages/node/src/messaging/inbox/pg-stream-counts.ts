import type { PgDatabase } from '../../storage/postgres/pg-database.js';
import { pgCountSource } from '../pg-count-source.js';
import { firstPerKeySql } from '../pg-loose-scan.js';
import type { StreamCountSource } from '../stream-counter.js';
import type { InboxCountReads, InboxCountRow, InboxStreamKey } from './stream-counts.js';

const STREAMS = firstPerKeySql({ table: 'inbox_messages', keys: ['namespace', 'source_origin'], order: 'seq' });
const STREAM = 'namespace = $1 AND source_origin = $2';
const keyOf = (s: InboxStreamKey) => [s.namespace, s.source_origin];

/**
 * The inbox's counts over its PostgreSQL tables (PgInboxStorage's database): new
 * InboxStreamCounts(pgInboxCountSource(db)). Queries run on the UNIQUE (namespace, source_origin,
 * seq) index and inbox_streams' key, as on SQLite.
 */
export function pgInboxCountSource(db: PgDatabase): StreamCountSource<InboxCountReads> {
  return pgCountSource(db, (tx) => ({
    streams: () => tx.rows<InboxStreamKey>(STREAMS),
    rowsAfter: (s, seq, limit) =>
      tx.rows<InboxCountRow>(
        `SELECT seq, state, error_code FROM inbox_messages WHERE ${STREAM} AND seq > $3 ORDER BY seq LIMIT $4`,
        [...keyOf(s), seq, limit],
      ),
    lastSeq: async (s) =>
      (await tx.row<{ m: number }>(`SELECT max(seq) AS m FROM inbox_messages WHERE ${STREAM}`, keyOf(s)))!.m,
    nextSeq: async (s) =>
      (await tx.row<{ n: number }>(`SELECT next_seq AS n FROM inbox_streams WHERE ${STREAM}`, keyOf(s)))?.n ?? 1,
  }));
}
