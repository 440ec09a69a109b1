import type { ChainAttempt } from './chain-sender.js';
import type { ChainJournal } from './chain-journal.js';
import type {
  ChainEpochKey,
  ChainEvent,
  ChainFinalCost,
  ChainInFlight,
  ChainSighting,
  JournaledAttempt,
} from './chain-journal-records.js';
import type { ChainJournalStorage } from './chain-journal-storage.js';

/**
 * ChainJournalStorage over the SQLite anchoring file's ChainJournal (each of its writes is one
 * IMMEDIATE transaction already). Async methods, so a synchronous throw is a rejection.
 */
export class SqliteChainJournalStorage implements ChainJournalStorage {
  readonly #journal: ChainJournal;

  constructor(journal: ChainJournal) {
    this.#journal = journal;
  }

  async attempts(k: ChainEpochKey): Promise<JournaledAttempt[]> {
    return this.#journal.attempts(k);
  }

  async add(k: ChainEpochKey, a: ChainAttempt, nowMs: number, detail: string): Promise<void> {
    this.#journal.add(k, a, nowMs, detail);
  }

  async markSent(
    k: ChainEpochKey,
    txid: string,
    nowMs: number,
    event: 'sent' | 'rebroadcast',
    detail: string,
  ): Promise<void> {
    this.#journal.markSent(k, txid, nowMs, event, detail);
  }

  async see(
    k: ChainEpochKey,
    txid: string,
    s: ChainSighting,
    nowMs: number,
    event?: { name: string; detail: string },
  ): Promise<void> {
    this.#journal.see(k, txid, s, nowMs, event);
  }

  async note(k: ChainEpochKey, txid: string, event: string, detail: string, nowMs: number): Promise<void> {
    this.#journal.note(k, txid, event, detail, nowMs);
  }

  async events(target: string, epoch: number): Promise<ChainEvent[]> {
    return this.#journal.events(target, epoch);
  }

  async recentEvents(target: string, limit: number): Promise<ChainEvent[]> {
    return this.#journal.recentEvents(target, limit);
  }

  async inFlight(target: string): Promise<ChainInFlight[]> {
    // The SQLite rows carry more columns than the record: return the record's alone, as PostgreSQL does.
    return this.#journal.inFlight(target).map((a) => ({
      epoch: a.epoch,
      mode: a.mode,
      node: a.node,
      txid: a.txid,
      state: a.state,
      confirmations: a.confirmations,
    }));
  }

  async finalCosts(target: string): Promise<ChainFinalCost[]> {
    return this.#journal.finalCosts(target);
  }
}
