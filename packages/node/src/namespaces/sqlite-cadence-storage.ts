import type { CadenceLevelName } from '@vaultmesh/core';
import { assertSameSchedule, type CadenceRow } from './cadence-records.js';
import type { AdvancedLevel, CadenceChange, CadenceNamespaceState, CadenceStorage } from './cadence-storage.js';
import { CadenceStore } from './cadence-store.js';

/**
 * CadenceStorage over the SQLite CadenceStore (its own file, WAL, synchronous FULL): the
 * compound operations are one IMMEDIATE transaction of the store, so other connections wait.
 */
export class SqliteCadenceStorage implements CadenceStorage {
  constructor(readonly store: CadenceStore) {}

  /** Opens (creating if missing) the cadence file at `path`. */
  static open(path: string, busyTimeoutMs?: number): SqliteCadenceStorage {
    return new SqliteCadenceStorage(
      new CadenceStore({ path, ...(busyTimeoutMs === undefined ? {} : { busyTimeoutMs }) }),
    );
  }

  async levels(namespace: string): Promise<CadenceRow[]> {
    return this.store.levels(namespace);
  }

  async due(nowMs: number): Promise<CadenceRow[]> {
    return this.store.due(nowMs);
  }

  async put(row: CadenceRow): Promise<void> {
    this.store.put(row);
  }

  async remove(namespace: string, level: CadenceLevelName): Promise<void> {
    this.store.remove(namespace, level);
  }

  async appliedAt(namespace: string): Promise<number | undefined> {
    return this.store.appliedAt(namespace);
  }

  async setAppliedAt(namespace: string, effectiveAtMs: number): Promise<void> {
    this.store.setAppliedAt(namespace, effectiveAtMs);
  }

  async namespaces(): Promise<string[]> {
    return this.store.namespaces();
  }

  async updateNamespace(namespace: string, decide: (state: CadenceNamespaceState) => CadenceChange): Promise<void> {
    this.store.atomically(() => {
      const change = decide({ appliedAt: this.store.appliedAt(namespace), levels: this.store.levels(namespace) });
      for (const row of change.put) assertSameSchedule(row, namespace);
      for (const level of change.remove) this.store.remove(namespace, level);
      for (const row of change.put) this.store.put(row);
      if (change.appliedAt !== undefined) this.store.setAppliedAt(namespace, change.appliedAt);
    });
  }

  async advanceDue(nowMs: number, advance: (due: CadenceRow) => CadenceRow): Promise<AdvancedLevel[]> {
    return this.store.atomically(() =>
      this.store.due(nowMs).map((before) => {
        const after = advance(before);
        assertSameSchedule(after, before.namespace, before.level);
        this.store.put(after);
        return { before, after };
      }),
    );
  }

  async close(): Promise<void> {
    this.store.close();
  }
}
