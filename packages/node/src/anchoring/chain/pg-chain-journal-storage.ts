import type { PgQueryable } from '../../storage/postgres/pg-database.js';
import type { PgStoreHandle } from '../../storage/postgres/pg-store-handle.js';
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
import type { ChainJournalStorage } from './chain-journal-storage.js';

const KEY = 'target = $1 AND epoch = $2 AND mode = $3 AND node = $4';

function keyParams(k: ChainEpochKey): [string, number, string, string] {
  return [k.target, k.epoch, k.mode, k.node];
}

/** One lock per target's history: events get ids in commit order and pruning counts them exactly. */
function eventsLock(target: string): string {
  return `anchor:chain-events:${target}`;
}

/**
 * ChainJournalStorage in the anchoring store's PostgreSQL tables (anchor_chain_attempts,
 * anchor_chain_events): ChainJournal's statements, each write with its event in one fenced
 * transaction under its target's history lock.
 */
export class PgChainJournalStorage implements ChainJournalStorage {
  readonly #conn: PgStoreHandle;

  constructor(conn: PgStoreHandle) {
    this.#conn = conn;
  }

  async attempts(k: ChainEpochKey): Promise<JournaledAttempt[]> {
    const rows = await this.#conn.db.rows<AttemptRow>(
      `SELECT * FROM anchor_chain_attempts WHERE ${KEY} ORDER BY created_at_ms, txid`,
      keyParams(k),
    );
    return rows.map(toAttempt);
  }

  async add(k: ChainEpochKey, a: ChainAttempt, nowMs: number, detail: string): Promise<void> {
    await this.#conn.write(async (tx) => {
      await tx.run(
        `INSERT INTO anchor_chain_attempts
           (target, epoch, mode, node, txid, attempt, state, created_at_ms, updated_at_ms)
         VALUES ($1, $2, $3, $4, $5, $6, 'prepared', $7, $7)
         ON CONFLICT (target, epoch, mode, node, txid) DO NOTHING`,
        [...keyParams(k), a.txid, JSON.stringify(a), nowMs],
      );
      await this.#event(tx, k, a.txid, a.replaces === undefined ? 'prepared' : 'replacement', detail, nowMs);
    }, eventsLock(k.target));
  }

  async markSent(
    k: ChainEpochKey,
    txid: string,
    nowMs: number,
    event: 'sent' | 'rebroadcast',
    detail: string,
  ): Promise<void> {
    await this.#conn.write(async (tx) => {
      await tx.run(
        `UPDATE anchor_chain_attempts SET sent_at_ms = coalesce(sent_at_ms, $6), updated_at_ms = $6,
           state = CASE WHEN state = 'prepared' THEN 'pending' ELSE state END
         WHERE ${KEY} AND txid = $5`,
        [...keyParams(k), txid, nowMs],
      );
      await this.#event(tx, k, txid, event, detail, nowMs);
    }, eventsLock(k.target));
  }

  async see(
    k: ChainEpochKey,
    txid: string,
    s: ChainSighting,
    nowMs: number,
    event?: { name: string; detail: string },
  ): Promise<void> {
    await this.#conn.write(async (tx) => {
      await tx.run(
        `UPDATE anchor_chain_attempts SET state = $6, block_hash = $7, height = $8, confirmations = $9,
           cost = coalesce($10, cost), updated_at_ms = $11
         WHERE ${KEY} AND txid = $5`,
        [...keyParams(k), txid, ...sightingValues(s), nowMs],
      );
      if (event !== undefined) await this.#event(tx, k, txid, event.name, event.detail, nowMs);
    }, eventsLock(k.target));
  }

  async note(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): Promise<void> {
    await this.#conn.write((tx) => this.#event(tx, k, txid, event, detail, nowMs), eventsLock(k.target));
  }

  /** Records an event and prunes the target's history to EVENTS_KEPT; inside the caller's transaction. */
  async #event(
    tx: PgQueryable,
    k: ChainEpochKey,
    txid: string,
    event: string,
    detail: string,
    nowMs: number,
  ): Promise<void> {
    await tx.run(
      `INSERT INTO anchor_chain_events (target, epoch, mode, node, txid, event, detail, at_ms)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [...keyParams(k), txid, event, detail.slice(0, EVENT_DETAIL_CHARS), nowMs],
    );
    await tx.run(
      `DELETE FROM anchor_chain_events WHERE target = $1 AND id <= (
         SELECT id FROM anchor_chain_events WHERE target = $1 ORDER BY id DESC LIMIT 1 OFFSET $2)`,
      [k.target, EVENTS_KEPT],
    );
  }

  async events(target: string, epoch: number): Promise<ChainEvent[]> {
    const rows = await this.#conn.db.rows<EventRow>(
      `SELECT epoch, txid, event, detail, at_ms FROM anchor_chain_events
       WHERE target = $1 AND epoch = $2 ORDER BY id`,
      [target, epoch],
    );
    return rows.map(toEvent);
  }

  async recentEvents(target: string, limit: number): Promise<ChainEvent[]> {
    const rows = await this.#conn.db.rows<EventRow>(
      `SELECT epoch, txid, event, detail, at_ms FROM anchor_chain_events
       WHERE target = $1 ORDER BY id DESC LIMIT $2`,
      [target, limit],
    );
    return rows.map(toEvent);
  }

  async inFlight(target: string): Promise<ChainInFlight[]> {
    const rows = await this.#conn.db.rows<ChainInFlight>(
      // An epoch some other leader settled (a failover while this node was down) is not in flight.
      `SELECT a.epoch, a.mode, a.node, a.txid, a.state, a.confirmations
       FROM anchor_chain_attempts a
       WHERE a.target = $1 AND a.state IN ('prepared', 'pending', 'included', 'missing') AND NOT EXISTS (
         SELECT 1 FROM anchor_epochs e
         WHERE e.target = a.target AND e.epoch = a.epoch AND e.mode = a.mode AND e.node = a.node)
       ORDER BY a.epoch, a.txid`,
      [target],
    );
    return rows.map((r) => ({
      epoch: r.epoch,
      mode: r.mode,
      node: r.node,
      txid: r.txid,
      state: r.state,
      confirmations: r.confirmations,
    }));
  }

  async finalCosts(target: string): Promise<ChainFinalCost[]> {
    const rows = await this.#conn.db.rows<FinalCostRow>(
      `SELECT a.cost, a.epoch, a.mode, a.node FROM anchor_chain_attempts a
       WHERE a.target = $1 AND a.state = 'final' AND a.cost IS NOT NULL
       ORDER BY a.epoch, a.mode, a.node, a.txid`,
      [target],
    );
    return rows.map(toFinalCost);
  }
}
