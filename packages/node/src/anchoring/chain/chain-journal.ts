import type Database from 'better-sqlite3';
import type { GuardedConnection } from '../../storage/sqlite/guarded-connection.js';
import type { ChainAttempt } from './chain-sender.js';
import {
  EVENTS_KEPT,
  EVENT_DETAIL_CHARS,
  toAttempt,
  toEvent,
  sightingValues,
  toFinalCost,
  type AttemptRow,
  type ChainEpochKey,
  type ChainEvent,
  type ChainFinalCost,
  type ChainInFlight,
  type ChainSighting,
  type EventRow,
  type FinalCostRow,
  type JournaledAttempt,
} from './chain-journal-records.js';

export type {
  ChainAttemptState,
  ChainEpochKey,
  ChainEvent,
  ChainFinalCost,
  ChainInFlight,
  ChainSighting,
  JournaledAttempt,
} from './chain-journal-records.js';

/*
 * The journal of chain anchor transactions, on the anchoring database (tables of migration 3 in
 * anchor-schema.ts). An attempt is written before it is broadcast; its state then follows what
 * the chain says: pending (sent, not in a block), included (in a block of the best chain, with
 * its confirmations), final (confirmed enough: the anchor stands), missing (the node does not
 * know it: evicted, or dropped by a reorg), conflicted (another transaction took its nonce or
 * inputs for good). `prepared` is an attempt not yet broadcast.
 */

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
      this.#s.see!.run(...sightingValues(s), nowMs, k.target, k.epoch, k.mode, k.node, txid);
      if (event !== undefined) this.#event(k, txid, event.name, event.detail, nowMs);
    });
  }

  note(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): void {
    this.#conn.atomically(() => this.#event(k, txid, event, detail, nowMs));
  }

  #event(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): void {
    this.#s.event!.run(k.target, k.epoch, k.mode, k.node, txid, event, detail.slice(0, EVENT_DETAIL_CHARS), nowMs);
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
  inFlight(target: string): ChainInFlight[] {
    return this.#conn.read(() => this.#s.inFlight!.all(target) as ChainInFlight[]);
  }

  /** The cost of every final anchor of a target, with the epoch it anchored. */
  finalCosts(target: string): ChainFinalCost[] {
    return this.#conn.read(() => (this.#s.costs!.all(target) as FinalCostRow[]).map(toFinalCost));
  }
}
