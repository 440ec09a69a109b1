import type Database from 'better-sqlite3';
import type { CadenceLevelName } from '@vaultmesh/core';
import { GuardedConnection } from '../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../storage/sqlite/sqlite-file.js';
import { migrateCadenceDb } from './cadence-schema.js';
import {
  CADENCE_COLUMNS as COLUMNS,
  levelOrder,
  levelValues,
  toCadenceRow as toRow,
  type CadenceRow,
  type LevelRow,
} from './cadence-records.js';

// CadenceRow moved to cadence-records.ts (shared with the PostgreSQL backend); importers of this module keep it.
export type { CadenceRow } from './cadence-records.js';

/** File name of the cadence database inside the node's data directory. */
export const CADENCE_DB_FILE = 'cadence.sqlite';

export interface CadenceStoreOptions {
  /** Database file, normally `<data dir>/cadence.sqlite`; ':memory:' for a throwaway store. */
  path: string;
  /** How long a statement waits for a lock held by another connection. */
  busyTimeoutMs?: number;
}

/**
 * The cadence schedules on their own SQLite file: WAL with synchronous FULL, so a due time the
 * scheduler reported is never reported again after power loss. Writes that read first belong in
 * atomically(), whose IMMEDIATE transaction takes the write lock before the first read.
 */
export class CadenceStore {
  readonly path: string;
  readonly #conn: GuardedConnection;
  readonly #s: Record<
    'levels' | 'due' | 'put' | 'remove' | 'appliedAt' | 'setAppliedAt' | 'namespaces',
    Database.Statement
  >;

  /** A path, or options; the file's directory is created (mode 0700) if missing. */
  constructor(pathOrOptions: string | CadenceStoreOptions) {
    const options = typeof pathOrOptions === 'string' ? { path: pathOrOptions } : pathOrOptions;
    this.path = options.path;
    const db = openDurableDatabase(options.path, 'cadence', options.busyTimeoutMs);
    try {
      migrateCadenceDb(db);
      this.#s = {
        levels: db.prepare(`SELECT ${COLUMNS} FROM cadence_levels WHERE namespace = ?`),
        due: db.prepare(
          `SELECT ${COLUMNS} FROM cadence_levels WHERE next_due_ms <= ? ORDER BY next_due_ms, namespace, level`,
        ),
        put: db.prepare(
          `INSERT INTO cadence_levels (${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (namespace, level) DO UPDATE SET target = excluded.target, every = excluded.every,
             period_ms = excluded.period_ms, confirmations = excluded.confirmations, anchor_ms = excluded.anchor_ms,
             next_due_ms = excluded.next_due_ms, last_due_ms = excluded.last_due_ms, due_count = excluded.due_count`,
        ),
        remove: db.prepare('DELETE FROM cadence_levels WHERE namespace = ? AND level = ?'),
        appliedAt: db.prepare('SELECT effective_at_ms FROM cadence_namespaces WHERE namespace = ?').pluck(),
        setAppliedAt: db.prepare(
          `INSERT INTO cadence_namespaces (namespace, effective_at_ms) VALUES (?, ?)
           ON CONFLICT (namespace) DO UPDATE SET effective_at_ms = excluded.effective_at_ms`,
        ),
        namespaces: db.prepare('SELECT namespace FROM cadence_namespaces ORDER BY namespace').pluck(),
      };
    } catch (cause) {
      db.close();
      throw storageFailure(`cannot initialise cadence database ${options.path}`, cause);
    }
    this.#conn = new GuardedConnection(db, 'cadence');
  }

  /** Runs fn in one IMMEDIATE transaction; a throw rolls everything fn wrote back. */
  atomically<T>(fn: () => T): T {
    return this.#conn.atomically(fn);
  }

  /** The levels of one namespace, in the order fast, strong, cold. */
  levels(namespace: string): CadenceRow[] {
    return this.#conn.read(() => (this.#s.levels.all(namespace) as LevelRow[]).map(toRow).sort(levelOrder));
  }

  /** Every level whose next due time is at or before nowMs, earliest first. */
  due(nowMs: number): CadenceRow[] {
    return this.#conn.read(() => (this.#s.due.all(nowMs) as LevelRow[]).map(toRow));
  }

  /** Inserts or replaces the schedule of (row.namespace, row.level). */
  put(row: CadenceRow): void {
    this.#conn.run('cadence write failed', () => this.#s.put.run(...levelValues(row)));
  }

  remove(namespace: string, level: CadenceLevelName): void {
    this.#conn.run('cadence delete failed', () => this.#s.remove.run(namespace, level));
  }

  /** Effective time of the cadence last applied to the namespace, if any was. */
  appliedAt(namespace: string): number | undefined {
    return this.#conn.read(() => this.#s.appliedAt.get(namespace) as number | undefined);
  }

  setAppliedAt(namespace: string, effectiveAtMs: number): void {
    this.#conn.run('cadence write failed', () => this.#s.setAppliedAt.run(namespace, effectiveAtMs));
  }

  /** Namespaces a cadence was ever applied to (with or without levels). */
  namespaces(): string[] {
    return this.#conn.read(() => this.#s.namespaces.all() as string[]);
  }

  close(): void {
    this.#conn.close();
  }
}
