import type { ChainAttempt, ChainCost } from './chain-sender.js';

/*
 * What the chain anchor journal keeps (tables of migration 3 in anchor-schema.ts), as both
 * backends (ChainJournal on SQLite, PgChainJournalStorage on PostgreSQL) return it, with the row
 * shapes and conversions their tables share.
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

/**
 * A sighting as both backends store it, in column order: state, block_hash, height, confirmations,
 * cost (null keeps the cost already stored).
 */
export function sightingValues(
  s: ChainSighting,
): [ChainAttemptState, string | null, number | null, number, string | null] {
  return [
    s.state,
    s.blockHash ?? null,
    s.height ?? null,
    s.confirmations ?? 0,
    s.cost === undefined ? null : JSON.stringify(s.cost),
  ];
}

export interface AttemptRow {
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

export function toAttempt(r: AttemptRow): JournaledAttempt {
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
export const EVENTS_KEPT = 2_000;

/** An event's detail is cut to this many characters before it is stored. */
export const EVENT_DETAIL_CHARS = 1000;

/** An attempt not settled yet (status: what is in flight). */
export interface ChainInFlight {
  epoch: number;
  mode: string;
  node: string;
  txid: string;
  state: ChainAttemptState;
  confirmations: number;
}

/** The cost of a final anchor, with the epoch it anchored. */
export interface ChainFinalCost {
  epoch: number;
  mode: 'collaborative' | 'independent';
  node: string;
  cost: ChainCost;
}

export interface FinalCostRow {
  cost: string;
  epoch: number;
  mode: 'collaborative' | 'independent';
  node: string;
}

export function toFinalCost(r: FinalCostRow): ChainFinalCost {
  return { epoch: r.epoch, mode: r.mode, node: r.node, cost: JSON.parse(r.cost) as ChainCost };
}

export interface EventRow {
  epoch: number;
  txid: string;
  event: string;
  detail: string;
  at_ms: number;
}

export function toEvent(r: EventRow): ChainEvent {
  return { epoch: r.epoch, txid: r.txid, event: r.event, detail: r.detail, atMs: r.at_ms };
}
