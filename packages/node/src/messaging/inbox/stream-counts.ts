import type Database from 'better-sqlite3';
import { sqliteCountSource } from '../sqlite-count-source.js';
import { StreamCounter, type StreamCountReads, type StreamCountSource } from '../stream-counter.js';

/** One stream this node receives on, with its messages counted by what became of them (GET /v1/messages/streams). */
export interface InboxStreamCount {
  /** The target namespace, on this node. */
  namespace: string;
  /** The source log's origin, `<node>/<namespace>`. */
  sourceOrigin: string;
  /** The highest seq received (held ones included). */
  lastSeq: number;
  /** The seq the stream applies next: every one below it is settled. */
  nextSeq: number;
  /** Applied: its delivery record is in the target log. */
  accepted: number;
  /** Proven, waiting for an earlier seq (or its delivery record being appended). */
  held: number;
  refused: number;
  /** Refused as MESSAGE_EXPIRED. */
  expired: number;
}

type Final = 'accepted' | 'refused' | 'expired';
const FINAL: readonly Final[] = ['accepted', 'refused', 'expired'];

export interface InboxStreamKey {
  namespace: string;
  source_origin: string;
}

export interface InboxCountRow {
  seq: number;
  state: string;
  error_code: string | null;
}

/** What either backend reads of the inbox's tables for counts. */
export interface InboxCountReads extends StreamCountReads<InboxStreamKey, InboxCountRow> {
  /** The seq the stream applies next (1 if never moved). */
  nextSeq(stream: InboxStreamKey): Promise<number>;
}

/** Applied and refused rows are settled; held and applying ones are not. */
function finalOf(r: InboxCountRow): Final | undefined {
  if (r.state === 'applied') return 'accepted';
  if (r.state !== 'refused') return undefined;
  return r.error_code === 'MESSAGE_EXPIRED' ? 'expired' : 'refused';
}

const SPEC = {
  buckets: FINAL,
  keyOf: (s: InboxStreamKey) => `${s.namespace}\n${s.source_origin}`,
  bucketOf: finalOf,
};

/** SQLite's largest integer: a key (stream, this) sorts after every row of the stream. */
const SQLITE_MAX_INTEGER = '9223372036854775807';

/** The inbox's file read for counts, on the UNIQUE (namespace, source_origin, seq) index. */
function sqliteReads(db: Database.Database): InboxCountReads {
  const nextStream = db.prepare(
    `SELECT namespace, source_origin FROM inbox_messages
       WHERE (namespace, source_origin, seq) > (?, ?, ${SQLITE_MAX_INTEGER})
       ORDER BY namespace, source_origin, seq LIMIT 1`,
  );
  const lastSeq = db.prepare('SELECT MAX(seq) FROM inbox_messages WHERE namespace = ? AND source_origin = ?').pluck();
  const nextSeq = db.prepare('SELECT next_seq FROM inbox_streams WHERE namespace = ? AND source_origin = ?').pluck();
  const rowsAfter = db.prepare(
    `SELECT seq, state, error_code FROM inbox_messages
       WHERE namespace = ? AND source_origin = ? AND seq > ? ORDER BY seq LIMIT ?`,
  );
  return {
    async streams() {
      const found: InboxStreamKey[] = [];
      let after = ['', ''];
      for (;;) {
        const s = nextStream.get(...after) as InboxStreamKey | undefined;
        if (s === undefined) return found;
        found.push(s);
        after = [s.namespace, s.source_origin];
      }
    },
    async rowsAfter(s, seq, limit) {
      return rowsAfter.all(s.namespace, s.source_origin, seq, limit) as InboxCountRow[];
    },
    async lastSeq(s) {
      return lastSeq.get(s.namespace, s.source_origin) as number;
    },
    async nextSeq(s) {
      return (nextSeq.get(s.namespace, s.source_origin) as number | undefined) ?? 1;
    },
  };
}

/**
 * Counts of the inbox's streams: on SQLite, read on a read-only connection of its own to
 * `inbox.sqlite` (WAL: it never blocks the inbox's writes); on PostgreSQL, over the inbox's
 * tables (pgInboxCountSource).
 *
 * Cost, as for the outbox's counts (outbox/stream-counts.ts): streams found by seeking in the
 * UNIQUE (namespace, source_origin, seq) index, O(streams × log n); each stream's settled prefix
 * counted once and kept, in steps that yield to the event loop; a call then reads the rows settled
 * since the last one and the held ones. At 1M messages the first call reads the history once, in
 * steps; later calls read what changed.
 */
export class InboxStreamCounts {
  readonly #counter: StreamCounter<InboxStreamKey, InboxCountRow, Final, InboxCountReads>;

  /** `from`: the inbox's file (join(dataDir, INBOX_DB_FILE)), which must exist, or a PostgreSQL source (pgInboxCountSource). */
  constructor(from: string | StreamCountSource<InboxCountReads>) {
    const source = typeof from === 'string' ? sqliteCountSource(from, 'inbox', sqliteReads) : from;
    this.#counter = new StreamCounter(SPEC, source);
  }

  /** Every stream, in (namespace, source origin) order. Concurrent calls share one catch-up. */
  async counts(): Promise<InboxStreamCount[]> {
    return this.#counter.counts(async (reads, s, prefix, after) => {
      const c: InboxStreamCount = {
        namespace: s.namespace,
        sourceOrigin: s.source_origin,
        lastSeq: await reads.lastSeq(s),
        nextSeq: await reads.nextSeq(s),
        held: 0,
        ...prefix.counts,
      };
      for (const r of after) {
        const final = finalOf(r);
        if (final) c[final]++;
        else c.held++;
      }
      return c;
    });
  }

  close(): void {
    this.#counter.close();
  }
}
