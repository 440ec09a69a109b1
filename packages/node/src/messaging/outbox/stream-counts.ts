import Database from 'better-sqlite3';
import { storageFailure } from '../../storage/sqlite/sqlite-file.js';
import { timestampMs } from './timestamp-ms.js';

/** One stream this node sends on, with its messages counted by state (GET /v1/messages/streams). */
export interface OutboxStreamCount {
  namespace: string;
  target: { node: string; namespace: string };
  /** The highest seq the stream has used: seqs run 1, 2, 3, … with no gap, so also its message count. */
  lastSeq: number;
  queued: number;
  sealed: number;
  delivered: number;
  refused: number;
  /** Answered MESSAGE_EXPIRED, or still undelivered past its expiry (as the status view shows it). */
  expired: number;
}

type FinalState = 'delivered' | 'refused' | 'expired';

/** A stream's first `through` seqs, all in a final state, counted once and kept. */
interface SettledPrefix {
  through: number;
  delivered: number;
  refused: number;
  expired: number;
}

const FINAL = new Set<string>(['delivered', 'refused', 'expired']);

/**
 * Counts of the outbox's streams, read on a read-only connection of its own to `outbox.sqlite`
 * (WAL: it never blocks the delivery worker's writes, nor they it), in one read transaction so the
 * counts of one answer agree.
 *
 * Cost. The outbox has no index on state for settled rows (its partial indexes cover the work:
 * queued, sealed, receipts due), and a GROUP BY state would read every row of the history on
 * every call: ~1 s at 1M messages, looking each up in the table by id. Instead the streams are
 * found by seeking from stream to stream in the (stream, seq) unique index, O(streams × log n);
 * each stream's last seq is one seek; and its rows are read only after the prefix already known to
 * be settled — a settled row never changes state again, so the counts of that prefix are kept in
 * memory here and never re-read. A call then costs the messages still in flight plus those that
 * settled since the last call; only the first call after start reads each stream's history once
 * (measured at 1M messages in test/messaging/outbox/stream-counts.test.ts's comment).
 */
export class OutboxStreamCounts {
  readonly #db: Database.Database;
  readonly #nextStream: Database.Statement;
  readonly #lastSeq: Database.Statement;
  readonly #tail: Database.Statement;
  readonly #settled = new Map<string, SettledPrefix>();
  readonly #now: () => number;

  /** `path`: the outbox's file (OutboxStore.path), which must exist; `now`: the outbox's clock, ms. */
  constructor(path: string, now: () => number = Date.now) {
    this.#now = now;
    try {
      this.#db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
    } catch (cause) {
      throw storageFailure(`cannot open outbox database ${path} to count streams`, cause);
    }
    // Every query below runs on the outbox_messages UNIQUE (namespace, target_node, target_namespace, seq) index.
    this.#nextStream = this.#db.prepare(
      `SELECT namespace, target_node, target_namespace FROM outbox_messages
         WHERE (namespace, target_node, target_namespace) > (?, ?, ?)
         ORDER BY namespace, target_node, target_namespace LIMIT 1`,
    );
    this.#lastSeq = this.#db
      .prepare(`SELECT MAX(seq) FROM outbox_messages WHERE namespace = ? AND target_node = ? AND target_namespace = ?`)
      .pluck();
    this.#tail = this.#db.prepare(
      `SELECT seq, state, expires_at FROM outbox_messages
         WHERE namespace = ? AND target_node = ? AND target_namespace = ? AND seq > ?
         ORDER BY seq`,
    );
  }

  /** Every stream, in (namespace, target) order; `nowMs` decides which pending messages show expired. */
  counts(nowMs = this.#now()): OutboxStreamCount[] {
    try {
      return this.#db.transaction(() => this.#read(nowMs))();
    } catch (cause) {
      throw storageFailure('outbox stream counts failed', cause);
    }
  }

  close(): void {
    this.#db.close();
  }

  #read(nowMs: number): OutboxStreamCount[] {
    const out: OutboxStreamCount[] = [];
    // '' sorts before every namespace id: the first seek finds the first stream.
    let after = ['', '', ''];
    for (;;) {
      const s = this.#nextStream.get(...after) as
        { namespace: string; target_node: string; target_namespace: string } | undefined;
      if (s === undefined) return out;
      after = [s.namespace, s.target_node, s.target_namespace];
      out.push(this.#stream(s.namespace, s.target_node, s.target_namespace, nowMs));
    }
  }

  #stream(namespace: string, node: string, targetNs: string, nowMs: number): OutboxStreamCount {
    const key = `${namespace}\n${node}\n${targetNs}`;
    const settled = this.#settled.get(key) ?? { through: 0, delivered: 0, refused: 0, expired: 0 };
    const c: OutboxStreamCount = {
      namespace,
      target: { node, namespace: targetNs },
      lastSeq: this.#lastSeq.get(namespace, node, targetNs) as number,
      queued: 0,
      sealed: 0,
      delivered: 0,
      refused: 0,
      expired: 0,
    };
    const rows = this.#tail.iterate(namespace, node, targetNs, settled.through) as IterableIterator<{
      seq: number;
      state: string;
      expires_at: string;
    }>;
    for (const r of rows) {
      if (FINAL.has(r.state)) {
        // Settled and next in line: it joins the prefix never read again.
        if (r.seq === settled.through + 1) {
          settled.through = r.seq;
          settled[r.state as FinalState]++;
        } else c[r.state as FinalState]++;
      } else if (nowMs > timestampMs(r.expires_at)) c.expired++;
      else if (r.state === 'queued') c.queued++;
      else c.sealed++;
    }
    this.#settled.set(key, settled);
    c.delivered += settled.delivered;
    c.refused += settled.refused;
    c.expired += settled.expired;
    return c;
  }
}
