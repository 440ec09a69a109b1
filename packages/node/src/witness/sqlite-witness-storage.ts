import type { WitnessConflict, WitnessedCheckpoint } from './witness-records.js';
import type { WitnessCommit, WitnessDecision, WitnessStorage } from './witness-storage.js';
import { WitnessStore } from './witness-store.js';

/**
 * WitnessStorage over the SQLite WitnessStore (its own file, WAL, synchronous FULL):
 * updateCheckpoints is one IMMEDIATE transaction of the store, so other connections to the file
 * wait for it.
 */
export class SqliteWitnessStorage implements WitnessStorage {
  constructor(readonly store: WitnessStore) {}

  /** Opens (creating if missing) the witness file at `path`. */
  static open(path: string, busyTimeoutMs?: number): SqliteWitnessStorage {
    return new SqliteWitnessStorage(
      new WitnessStore({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) }),
    );
  }

  async get(origin: string): Promise<WitnessedCheckpoint | undefined> {
    return this.store.get(origin);
  }

  async getByOriginHash(originHash: string): Promise<WitnessedCheckpoint | undefined> {
    return this.store.getByOriginHash(originHash);
  }

  async list(): Promise<WitnessedCheckpoint[]> {
    return this.store.list();
  }

  async updateCheckpoints<T>(
    origins: readonly string[],
    decide: (stored: ReadonlyMap<string, WitnessedCheckpoint>) => WitnessDecision<T>,
  ): Promise<WitnessCommit<T>> {
    return this.store.atomically(() => {
      const stored = new Map<string, WitnessedCheckpoint>();
      for (const origin of new Set(origins)) {
        const c = this.store.get(origin);
        if (c !== undefined) stored.set(origin, c);
      }
      const decision = decide(stored);
      for (const c of decision.checkpoints) this.store.put(stored.get(c.origin)?.size, c);
      const newConflicts = decision.conflicts.map((c) => this.store.recordConflict(c));
      return { result: decision.result, newConflicts };
    });
  }

  async conflicts(origin?: string, limit?: number): Promise<WitnessConflict[]> {
    return this.store.conflicts(origin, limit);
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
