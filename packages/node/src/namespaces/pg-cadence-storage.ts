import type { CadenceLevelName } from '@vaultmesh/core';
import type { PgQueryable } from '../storage/postgres/pg-database.js';
import { PgStoreHandle, type PgStoreOptions } from '../storage/postgres/pg-store-handle.js';
import {
  CADENCE_COLUMNS,
  assertSameSchedule,
  levelOrder,
  levelValues,
  toCadenceRow,
  type CadenceRow,
  type LevelRow,
} from './cadence-records.js';
import type { AdvancedLevel, CadenceChange, CadenceNamespaceState, CadenceStorage } from './cadence-storage.js';
import { PG_CADENCE_SCHEMA } from './pg-cadence-schema.js';

export type PgCadenceStorageOptions = PgStoreOptions;

const PUT = `INSERT INTO cadence_levels (${CADENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
  ON CONFLICT (namespace, level) DO UPDATE SET target = EXCLUDED.target, every = EXCLUDED.every,
    period_ms = EXCLUDED.period_ms, confirmations = EXCLUDED.confirmations, anchor_ms = EXCLUDED.anchor_ms,
    next_due_ms = EXCLUDED.next_due_ms, last_due_ms = EXCLUDED.last_due_ms, due_count = EXCLUDED.due_count`;
const REMOVE = 'DELETE FROM cadence_levels WHERE namespace = $1 AND level = $2';
const SET_APPLIED_AT = `INSERT INTO cadence_namespaces (namespace, effective_at_ms) VALUES ($1, $2)
  ON CONFLICT (namespace) DO UPDATE SET effective_at_ms = EXCLUDED.effective_at_ms`;
const APPLIED_AT = 'SELECT effective_at_ms FROM cadence_namespaces WHERE namespace = $1';
const LEVELS = `SELECT ${CADENCE_COLUMNS} FROM cadence_levels WHERE namespace = $1`;
const DUE = `SELECT ${CADENCE_COLUMNS} FROM cadence_levels WHERE next_due_ms <= $1 ORDER BY next_due_ms, namespace, level`;

/**
 * Serialises the compound operations of every front end: the form of the SQLite store's
 * IMMEDIATE transaction. One lock for all schedules, not row locks: a tick spans namespaces in
 * due order and an update locks one namespace's rows, and the two orders could deadlock. Cadence
 * is the lease holder's work, so there is no contention to spread.
 */
const SCHEDULES_LOCK = 'cadence:schedules';

/**
 * CadenceStorage on PostgreSQL, shared by the front ends of one node. updateNamespace and
 * advanceDue hold SCHEDULES_LOCK for their transaction, so a concurrent tick waits and then
 * finds the levels advanced; single writes are single statements. Every write transaction checks
 * the fence before its first write.
 */
export class PgCadenceStorage implements CadenceStorage {
  readonly #handle: PgStoreHandle;

  private constructor(handle: PgStoreHandle) {
    this.#handle = handle;
  }

  /** Connects (for a URL) and brings the store's tables to the current schema. */
  static async open(options: PgStoreOptions): Promise<PgCadenceStorage> {
    return new PgCadenceStorage(await PgStoreHandle.open(options, PG_CADENCE_SCHEMA));
  }

  async levels(namespace: string): Promise<CadenceRow[]> {
    return levelsOf(this.#handle.db, namespace);
  }

  async due(nowMs: number): Promise<CadenceRow[]> {
    return (await this.#handle.db.rows<LevelRow>(DUE, [nowMs])).map(toCadenceRow);
  }

  async put(row: CadenceRow): Promise<void> {
    await this.#write(async (tx) => {
      await tx.run(PUT, levelValues(row));
    });
  }

  async remove(namespace: string, level: CadenceLevelName): Promise<void> {
    await this.#write(async (tx) => {
      await tx.run(REMOVE, [namespace, level]);
    });
  }

  async appliedAt(namespace: string): Promise<number | undefined> {
    return appliedAtOf(this.#handle.db, namespace);
  }

  async setAppliedAt(namespace: string, effectiveAtMs: number): Promise<void> {
    await this.#write(async (tx) => {
      await tx.run(SET_APPLIED_AT, [namespace, effectiveAtMs]);
    });
  }

  async namespaces(): Promise<string[]> {
    const rows = await this.#handle.db.rows<{ namespace: string }>(
      'SELECT namespace FROM cadence_namespaces ORDER BY namespace',
    );
    return rows.map((r) => r.namespace);
  }

  async updateNamespace(namespace: string, decide: (state: CadenceNamespaceState) => CadenceChange): Promise<void> {
    await this.#handle.db.transaction(
      async (tx) => {
        const state = {
          appliedAt: await appliedAtOf(tx, namespace),
          levels: await levelsOf(tx, namespace),
        };
        const change = decide(state);
        for (const row of change.put) assertSameSchedule(row, namespace);
        // A replay that changes nothing writes nothing, and so needs no lease.
        if (change.put.length === 0 && change.remove.length === 0 && change.appliedAt === undefined) return;
        await this.#handle.fence.check(tx);
        for (const level of change.remove) await tx.run(REMOVE, [namespace, level]);
        for (const row of change.put) await tx.run(PUT, levelValues(row));
        if (change.appliedAt !== undefined) await tx.run(SET_APPLIED_AT, [namespace, change.appliedAt]);
      },
      { lock: SCHEDULES_LOCK },
    );
  }

  async advanceDue(nowMs: number, advance: (due: CadenceRow) => CadenceRow): Promise<AdvancedLevel[]> {
    return this.#handle.db.transaction(
      async (tx) => {
        const due = (await tx.rows<LevelRow>(DUE, [nowMs])).map(toCadenceRow);
        if (due.length === 0) return [];
        const advanced = due.map((before) => {
          const after = advance(before);
          assertSameSchedule(after, before.namespace, before.level);
          return { before, after };
        });
        await this.#handle.fence.check(tx);
        for (const { after } of advanced) await tx.run(PUT, levelValues(after));
        return advanced;
      },
      { lock: SCHEDULES_LOCK },
    );
  }

  /** One write statement's transaction, fenced. */
  async #write(fn: (tx: PgQueryable) => Promise<void>): Promise<void> {
    await this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
      await fn(tx);
    });
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}

async function levelsOf(q: PgQueryable, namespace: string): Promise<CadenceRow[]> {
  return (await q.rows<LevelRow>(LEVELS, [namespace])).map(toCadenceRow).sort(levelOrder);
}

async function appliedAtOf(q: PgQueryable, namespace: string): Promise<number | undefined> {
  return (await q.row<{ effective_at_ms: number }>(APPLIED_AT, [namespace]))?.effective_at_ms;
}
