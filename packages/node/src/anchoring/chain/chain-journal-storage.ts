import type { ChainAttempt } from './chain-sender.js';
import type {
  ChainEpochKey,
  ChainEvent,
  ChainFinalCost,
  ChainInFlight,
  ChainSighting,
  JournaledAttempt,
} from './chain-journal-records.js';

/**
 * The journal of chain anchor transactions (issue 11) behind one interface for both backends
 * (issue 14): ChainJournal's operations, as promises. It lives in the anchoring store's database
 * (AnchorStorage.chain): what is in flight leaves out epochs the store knows the outcome of.
 *
 * Every write is one transaction with the history event it records (and the history's pruning),
 * so an attempt is never journaled without its event nor the other way round. Only the lease
 * holder anchors, one job per epoch, so no write here is a read-check-write across callers.
 */
export interface ChainJournalStorage {
  /** The epoch's attempts, oldest first (created time, then txid). */
  attempts(k: ChainEpochKey): Promise<JournaledAttempt[]>;

  /**
   * Journals a signed attempt before it is broadcast (state `prepared`) with its `prepared` (or
   * `replacement`) event. An attempt already journaled (same txid) is kept as it is; the event is
   * still recorded.
   */
  add(k: ChainEpochKey, a: ChainAttempt, nowMs: number, detail: string): Promise<void>;

  /** Records a broadcast: `prepared` becomes `pending`, the first send time stays; with its event. */
  markSent(k: ChainEpochKey, txid: string, nowMs: number, event: 'sent' | 'rebroadcast', detail: string): Promise<void>;

  /** Records where the chain has the attempt now (a cost given replaces the one held); `event` goes to its history. */
  see(
    k: ChainEpochKey,
    txid: string,
    s: ChainSighting,
    nowMs: number,
    event?: { name: string; detail: string },
  ): Promise<void>;

  /** Adds an event to the history alone. */
  note(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): Promise<void>;

  /** The history of one epoch's anchor, oldest first (all modes and nodes of that epoch). */
  events(target: string, epoch: number): Promise<ChainEvent[]>;

  /** The latest events of a target, newest first; the target keeps its latest EVENTS_KEPT. */
  recentEvents(target: string, limit: number): Promise<ChainEvent[]>;

  /** Attempts not settled yet of epochs without a known outcome, by epoch then txid. */
  inFlight(target: string): Promise<ChainInFlight[]>;

  /** The cost of every final anchor of a target, with the epoch it anchored. */
  finalCosts(target: string): Promise<ChainFinalCost[]>;
}
