import Database from 'better-sqlite3';
import { storageFailure } from '../../storage/sqlite/sqlite-file.js';
import { SETTLE_CHUNK_ROWS, SettledPrefixes, inSteps } from '../settled-prefixes.js';

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

interface StreamKey {
  namespace: string;
  source_origin: string;
}

interface Row {
  seq: number;
  state: string;
  error_code: string | null;
}

const keyOf = (s: StreamKey) => `${s.namespace}\n${s.source_origin}`;

/** Applied and refused rows are settled; held and applying ones are not. */
function finalOf(r: Row): Final | undefined {
  if (r.state === 'applied') return 'accepted';
  if (r.state !== 'refused') return undefined;
  return r.error_code === 'MESSAGE_EXPIRED' ? 'expired' : 'refused';
}

/** SQLite's largest integer: a key (stream, this) sorts after every row of the stream. */
const SQLITE_MAX_INTEGER = '9223372036854775807';

/**
 * Counts of the inbox's streams, read on a read-only connection of its own to `inbox.sqlite` (WAL:
 * it never blocks the inbox's writes).
 *
 * Cost, as for the outbox's counts (outbox/stream-counts.ts): streams found by seeking in the
 * UNIQUE (namespace, source_origin, seq) index, O(streams × log n); each stream's settled prefix
 * counted once and kept, in steps that yield to the event loop; a call then reads the rows settled
 * since the last one and the held ones. At 1M messages the first call reads the history once, in
 * steps; later calls read what changed.
 */
export class InboxStreamCounts {
  readonly #db: Database.Database;
  readonly #nextStream: Database.Statement;
  readonly #lastSeq: Database.Statement;
  readonly #nextSeq: Database.Statement;
  readonly #rowsAfter: Database.Statement;
  readonly #prefixes = new SettledPrefixes<Final>(FINAL);
  #catchingUp: Promise<void> | undefined;

  /** `path`: the inbox's file (join(dataDir, INBOX_DB_FILE)), which must exist. */
  constructor(path: string) {
    try {
      this.#db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (cause) {
      throw storageFailure(`cannot open inbox database ${path} to count streams`, cause);
    }
    this.#nextStream = this.#db.prepare(
      `SELECT namespace, source_origin FROM inbox_messages
         WHERE (namespace, source_origin, seq) > (?, ?, ${SQLITE_MAX_INTEGER})
         ORDER BY namespace, source_origin, seq LIMIT 1`,
    );
    this.#lastSeq = this.#db
      .prepare('SELECT MAX(seq) FROM inbox_messages WHERE namespace = ? AND source_origin = ?')
      .pluck();
    this.#nextSeq = this.#db
      .prepare('SELECT next_seq FROM inbox_streams WHERE namespace = ? AND source_origin = ?')
      .pluck();
    this.#rowsAfter = this.#db.prepare(
      `SELECT seq, state, error_code FROM inbox_messages
         WHERE namespace = ? AND source_origin = ? AND seq > ? ORDER BY seq LIMIT ?`,
    );
  }

  /** Every stream, in (namespace, source origin) order. Concurrent calls share one catch-up. */
  async counts(): Promise<InboxStreamCount[]> {
    this.#catchingUp ??= inSteps(() => this.#read(() => this.#settleStep())).finally(() => {
      this.#catchingUp = undefined;
    });
    await this.#catchingUp;
    return this.#read(() => this.#streams().map((s) => this.#count(s)));
  }

  close(): void {
    this.#db.close();
  }

  #read<T>(fn: () => T): T {
    try {
      return this.#db.transaction(fn)();
    } catch (cause) {
      throw storageFailure('inbox stream counts failed', cause);
    }
  }

  #streams(): StreamKey[] {
    const found: StreamKey[] = [];
    let after = ['', ''];
    for (;;) {
      const s = this.#nextStream.get(...after) as StreamKey | undefined;
      if (s === undefined) return found;
      found.push(s);
      after = [s.namespace, s.source_origin];
    }
  }

  #after(s: StreamKey, seq: number, limit: number): Row[] {
    return this.#rowsAfter.all(s.namespace, s.source_origin, seq, limit) as Row[];
  }

  /** Moves settled prefixes on by at most SETTLE_CHUNK_ROWS rows read; true if more may be left. */
  #settleStep(): boolean {
    let budget = SETTLE_CHUNK_ROWS;
    for (const s of this.#streams()) {
      for (;;) {
        if (budget === 0) return true;
        const key = keyOf(s);
        const rows = this.#after(s, this.#prefixes.get(key).through, budget);
        budget -= rows.length;
        const taken = this.#prefixes.absorb(
          key,
          rows.map((r) => ({ seq: r.seq, bucket: finalOf(r) })),
        );
        if (taken < rows.length || rows.length === 0 || budget > 0) break;
      }
    }
    return false;
  }

  #count(s: StreamKey): InboxStreamCount {
    const prefix = this.#prefixes.get(keyOf(s));
    const c: InboxStreamCount = {
      namespace: s.namespace,
      sourceOrigin: s.source_origin,
      lastSeq: this.#lastSeq.get(s.namespace, s.source_origin) as number,
      nextSeq: (this.#nextSeq.get(s.namespace, s.source_origin) as number | undefined) ?? 1,
      held: 0,
      ...prefix.counts,
    };
    for (const r of this.#after(s, prefix.through, Number.MAX_SAFE_INTEGER)) {
      const final = finalOf(r);
      if (final) c[final]++;
      else c.held++;
    }
    return c;
  }
}
