import type Database from 'better-sqlite3';
import type { GuardedConnection } from '../../storage/sqlite/guarded-connection.js';
import type { ChainAttempt, ChainCost } from './chain-sender.js';

/*
 * The journal of chain anchor transactions, on the anchoring database (tables of migration 3 in
 * anchor-schema.ts). An attempt is written before it is broadcast; its state then follows what
 * the chain says: pending (sent, not in a block), included (in a block of the best chain, with
 * its confirmations), final (confirmed enough: the anchor stands), missing (the node does not
 * know it: evicted, or dropped by a reorg), conflicted (another transaction took its nonce or
 * inputs for good). `prepared` is an attempt not yet broadcast.
 */

export type ChainAttemptState = 'prepared' | 'pending' | 'included' | 'final' | 'missing' | 'conflicted';

/** Which epoch's anchor: `node` '' for collaborative epochs, the anchoring node for independent ones. */
export interface ChainEpochKey {
  readonly target: string;
  readonly epoch: number;
  readonly mode: 'collaborative' | 'independent';
  readonly node: string;
}

export interface JournaledAttempt {
  readonly attempt: ChainAttempt;
  readonly state: ChainAttemptState;
  readonly blockHash?: string;
  readonly height?: number;
  readonly confirmations: number;
  readonly cost?: ChainCost;
  readonly createdAtMs: number;
  readonly sentAtMs?: number;
  readonly updatedAtMs: number;
}

export interface ChainEvent {
  readonly epoch: number;
  readonly txid: string;
  readonly event: string;
  readonly detail: string;
  readonly atMs: number;
}

/** Where an attempt was last seen, as the journal records it. */
export interface ChainSighting {
  readonly state: ChainAttemptState;
  readonly blockHash?: string;
  readonly height?: number;
  readonly confirmations?: number;
  readonly cost?: ChainCost;
}

interface AttemptRow {
  attempt: string;
  state: ChainAttemptState;
  block_hash: string | null;
  height: number | null;
  confirmations: number;
  cost: string | null;
  created_at_ms: number;
  sent_at_ms: number | null;
  updated_at_ms: number;
}

function toAttempt(r: AttemptRow): JournaledAttempt {
  return {
    attempt: JSON.parse(r.attempt) as ChainAttempt,
    state: r.state,
    ...(r.block_hash === null ? {} : { blockHash: r.block_hash }),
    ...(r.height === null ? {} : { height: r.height }),
    confirmations: r.confirmations,
    ...(r.cost === null ? {} : { cost: JSON.parse(r.cost) as ChainCost }),
    createdAtMs: r.created_at_ms,
    ...(r.sent_at_ms === null ? {} : { sentAtMs: r.sent_at_ms }),
    updatedAtMs: r.updated_at_ms,
  };
}

/** Events kept per target (the oldest go first). */
const EVENTS_KEPT = 2_000;

export class ChainJournal {
  readonly #conn: GuardedConnection;
  readonly #s: Record<string, Database.Statement>;

  constructor(db: Database.Database, conn: GuardedConnection) {
    this.#conn = conn;
    const key = 'target = ? AND epoch = ? AND mode = ? AND node = ?';
    this.#s = {
      attempts: db.prepare(`SELECT * FROM anchor_chain_attempts WHERE ${key} ORDER BY created_at_ms, txid`),
      add: db.prepare(
        `INSERT OR IGNORE INTO anchor_chain_attempts
           (target, epoch, mode, node, txid, attempt, state, created_at_ms, updated_at_ms)
         VALUES (?, ?, ?, ?, ?, ?, 'prepared', ?, ?)`,
      ),
      sent: db.prepare(
        `UPDATE anchor_chain_attempts SET sent_at_ms = coalesce(sent_at_ms, ?), updated_at_ms = ?,
           state = CASE WHEN state = 'prepared' THEN 'pending' ELSE state END
         WHERE ${key} AND txid = ?`,
      ),
      see: db.prepare(
        `UPDATE anchor_chain_attempts SET state = ?, block_hash = ?, height = ?, confirmations = ?,
           cost = coalesce(?, cost), updated_at_ms = ?
         WHERE ${key} AND txid = ?`,
      ),
      event: db.prepare(
        `INSERT INTO anchor_chain_events (target, epoch, mode, node, txid, event, detail, at_ms)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      trimEvents: db.prepare(
        `DELETE FROM anchor_chain_events WHERE target = ? AND id <= (
           SELECT id FROM anchor_chain_events WHERE target = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      ),
      events: db.prepare(
        `SELECT epoch, txid, event, detail, at_ms FROM anchor_chain_events
         WHERE target = ? AND epoch = ? ORDER BY id`,
      ),
      recent: db.prepare(
        `SELECT epoch, txid, event, detail, at_ms FROM anchor_chain_events
         WHERE target = ? ORDER BY id DESC LIMIT ?`,
      ),
      inFlight: db.prepare(
        // An epoch some other leader settled (a failover while this node was down) is not in flight.
        `SELECT a.target, a.epoch, a.mode, a.node, a.txid, a.state, a.confirmations, a.updated_at_ms
         FROM anchor_chain_attempts a
         WHERE a.target = ? AND a.state IN ('prepared', 'pending', 'included', 'missing') AND NOT EXISTS (
           SELECT 1 FROM anchor_epochs e
           WHERE e.target = a.target AND e.epoch = a.epoch AND e.mode = a.mode AND e.node = a.node)
         ORDER BY a.epoch, a.txid`,
      ),
      costs: db.prepare(
        `SELECT a.cost, a.epoch, a.mode, a.node FROM anchor_chain_attempts a
         WHERE a.target = ? AND a.state = 'final' AND a.cost IS NOT NULL`,
      ),
    };
  }

  attempts(k: ChainEpochKey): JournaledAttempt[] {
    return this.#conn.read(() =>
      (this.#s.attempts!.all(k.target, k.epoch, k.mode, k.node) as AttemptRow[]).map(toAttempt),
    );
  }

  /** Journals a signed attempt before it is broadcast (and its `prepared` event), in one transaction. */
  add(k: ChainEpochKey, a: ChainAttempt, nowMs: number, detail: string): void {
    this.#conn.atomically(() => {
      this.#s.add!.run(k.target, k.epoch, k.mode, k.node, a.txid, JSON.stringify(a), nowMs, nowMs);
      this.#event(k, a.txid, a.replaces === undefined ? 'prepared' : 'replacement', detail, nowMs);
    });
  }

  markSent(k: ChainEpochKey, txid: string, nowMs: number, event: 'sent' | 'rebroadcast', detail: string): void {
    this.#conn.atomically(() => {
      this.#s.sent!.run(nowMs, nowMs, k.target, k.epoch, k.mode, k.node, txid);
      this.#event(k, txid, event, detail, nowMs);
    });
  }

  /** Records where the chain has the attempt now; `event` (when given) goes to its history. */
  see(k: ChainEpochKey, txid: string, s: ChainSighting, nowMs: number, event?: { name: string; detail: string }): void {
    this.#conn.atomically(() => {
      this.#s.see!.run(
        s.state,
        s.blockHash ?? null,
        s.height ?? null,
        s.confirmations ?? 0,
        s.cost === undefined ? null : JSON.stringify(s.cost),
        nowMs,
        k.target,
        k.epoch,
        k.mode,
        k.node,
        txid,
      );
      if (event !== undefined) this.#event(k, txid, event.name, event.detail, nowMs);
    });
  }

  note(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): void {
    this.#conn.atomically(() => this.#event(k, txid, event, detail, nowMs));
  }

  #event(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): void {
    this.#s.event!.run(k.target, k.epoch, k.mode, k.node, txid, event, detail.slice(0, 1000), nowMs);
    this.#s.trimEvents!.run(k.target, k.target, EVENTS_KEPT);
  }

  /** The history of one epoch's anchor, oldest first. */
  events(target: string, epoch: number): ChainEvent[] {
    return this.#conn.read(() => (this.#s.events!.all(target, epoch) as EventRow[]).map(toEvent));
  }

  /** The latest events of a target, newest first. */
  recentEvents(target: string, limit: number): ChainEvent[] {
    return this.#conn.read(() => (this.#s.recent!.all(target, limit) as EventRow[]).map(toEvent));
  }

  /** Attempts not settled yet (status: what is in flight). */
  inFlight(target: string): {
    epoch: number;
    mode: string;
    node: string;
    txid: string;
    state: ChainAttemptState;
    confirmations: number;
  }[] {
    return this.#conn.read(
      () =>
        this.#s.inFlight!.all(target) as {
          epoch: number;
          mode: string;
          node: string;
          txid: string;
          state: ChainAttemptState;
          confirmations: number;
        }[],
    );
  }

  /** The cost of every final anchor of a target, with the epoch it anchored. */
  finalCosts(
    target: string,
  ): { epoch: number; mode: 'collaborative' | 'independent'; node: string; cost: ChainCost }[] {
    return this.#conn.read(() =>
      (
        this.#s.costs!.all(target) as {
          cost: string;
          epoch: number;
          mode: 'collaborative' | 'independent';
          node: string;
        }[]
      ).map((r) => ({ epoch: r.epoch, mode: r.mode, node: r.node, cost: JSON.parse(r.cost) as ChainCost })),
    );
  }
}

interface EventRow {
  epoch: number;
  txid: string;
  event: string;
  detail: string;
  at_ms: number;
}

function toEvent(r: EventRow): ChainEvent {
  return { epoch: r.epoch, txid: r.txid, event: r.event, detail: r.detail, atMs: r.at_ms };
}
