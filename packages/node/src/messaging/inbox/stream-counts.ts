import Database from 'better-sqlite3';
import { storageFailure } from '../../storage/sqlite/sqlite-file.js';

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

interface SettledPrefix {
  through: number;
  accepted: number;
  refused: number;
  expired: number;
}

interface TailRow {
  seq: number;
  state: string;
  error_code: string | null;
}

/**
 * Counts of the inbox's streams, read on a read-only connection of its own to `inbox.sqlite` (WAL:
 * it never blocks the inbox's writes), in one read transaction.
 *
 * Cost, as for the outbox's counts (outbox/stream-counts.ts): the streams are found by seeking in
 * the UNIQUE (namespace, source_origin, seq) index, O(streams × log n), and each stream's rows are
 * read only after the prefix known to be settled (applied or refused rows never change again),
 * whose counts are kept here. At 1M messages a call reads the held rows and those settled since
 * the last call; only the first call reads each stream's history, once.
 */
export class InboxStreamCounts {
  readonly #db: Database.Database;
  readonly #nextStream: Database.Statement;
  readonly #lastSeq: Database.Statement;
  readonly #nextSeq: Database.Statement;
  readonly #tail: Database.Statement;
  readonly #settled = new Map<string, SettledPrefix>();

  /** `path`: the inbox's file (InboxStore.path), which must exist. */
  constructor(path: string) {
    try {
      this.#db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (cause) {
      throw storageFailure(`cannot open inbox database ${path} to count streams`, cause);
    }
    this.#nextStream = this.#db.prepare(
      `SELECT namespace, source_origin FROM inbox_messages
         WHERE (namespace, source_origin) > (?, ?)
         ORDER BY namespace, source_origin LIMIT 1`,
    );
    this.#lastSeq = this.#db
      .prepare('SELECT MAX(seq) FROM inbox_messages WHERE namespace = ? AND source_origin = ?')
      .pluck();
    this.#nextSeq = this.#db
      .prepare('SELECT next_seq FROM inbox_streams WHERE namespace = ? AND source_origin = ?')
      .pluck();
    this.#tail = this.#db.prepare(
      `SELECT seq, state, error_code FROM inbox_messages
         WHERE namespace = ? AND source_origin = ? AND seq > ? ORDER BY seq`,
    );
  }

  /** Every stream, in (namespace, source origin) order. */
  counts(): InboxStreamCount[] {
    try {
      return this.#db.transaction(() => this.#read())();
    } catch (cause) {
      throw storageFailure('inbox stream counts failed', cause);
    }
  }

  close(): void {
    this.#db.close();
  }

  #read(): InboxStreamCount[] {
    const out: InboxStreamCount[] = [];
    let after = ['', ''];
    for (;;) {
      const s = this.#nextStream.get(...after) as { namespace: string; source_origin: string } | undefined;
      if (s === undefined) return out;
      after = [s.namespace, s.source_origin];
      out.push(this.#stream(s.namespace, s.source_origin));
    }
  }

  #stream(namespace: string, origin: string): InboxStreamCount {
    const key = `${namespace}\n${origin}`;
    const settled = this.#settled.get(key) ?? { through: 0, accepted: 0, refused: 0, expired: 0 };
    const c: InboxStreamCount = {
      namespace,
      sourceOrigin: origin,
      lastSeq: this.#lastSeq.get(namespace, origin) as number,
      nextSeq: (this.#nextSeq.get(namespace, origin) as number | undefined) ?? 1,
      accepted: 0,
      held: 0,
      refused: 0,
      expired: 0,
    };
    for (const r of this.#tail.iterate(namespace, origin, settled.through) as IterableIterator<TailRow>) {
      const final = r.state === 'applied' || r.state === 'refused';
      const which = r.state === 'applied' ? 'accepted' : r.error_code === 'MESSAGE_EXPIRED' ? 'expired' : 'refused';
      if (final && r.seq === settled.through + 1) {
        settled.through = r.seq;
        settled[which]++;
      } else if (final) c[which]++;
      else c.held++;
    }
    this.#settled.set(key, settled);
    c.accepted += settled.accepted;
    c.refused += settled.refused;
    c.expired += settled.expired;
    return c;
  }
}
