import type Database from 'better-sqlite3';
import { CADENCE_LEVELS, RemembrancerError, isCadenceLevelName, type CadenceLevelName } from '@vaultmesh/core';
import { GuardedConnection } from '../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../storage/sqlite/sqlite-file.js';
import { migrateCadenceDb } from './cadence-schema.js';

/** File name of the cadence database inside the node's data directory. */
export const CADENCE_DB_FILE = 'cadence.sqlite';

/** One level's schedule. Due times are `anchorMs + k·periodMs`, k ≥ 1. */
export interface CadenceRow {
  readonly namespace: string;
  readonly level: CadenceLevelName;
  readonly target: string;
  readonly every: string;
  readonly periodMs: number;
  readonly confirmations: number;
  /** Start of the schedule: when this level (as configured now) took effect. */
  readonly anchorMs: number;
  readonly nextDueMs: number;
  /** The latest due time that passed, null until the first one. */
  readonly lastDueMs: number | null;
  /** Due times passed since the schedule started, skipped ones included. */
  readonly dueCount: number;
}

export interface CadenceStoreOptions {
  /** Database file, normally `<data dir>/cadence.sqlite`; ':memory:' for a throwaway store. */
  path: string;
  /** How long a statement waits for a lock held by another connection. */
  busyTimeoutMs?: number;
}

interface LevelRow {
  namespace: string;
  level: string;
  target: string;
  every: string;
  period_ms: number;
  confirmations: number;
  anchor_ms: number;
  next_due_ms: number;
  last_due_ms: number | null;
  due_count: number;
}

const COLUMNS =
  'namespace, level, target, every, period_ms, confirmations, anchor_ms, next_due_ms, last_due_ms, due_count';

function toRow(r: LevelRow): CadenceRow {
  if (!isCadenceLevelName(r.level))
    throw new RemembrancerError('STORAGE_FAILURE', `corrupt cadence row: level ${JSON.stringify(r.level)}`);
  return {
    namespace: r.namespace,
    level: r.level,
    target: r.target,
    every: r.every,
    periodMs: r.period_ms,
    confirmations: r.confirmations,
    anchorMs: r.anchor_ms,
    nextDueMs: r.next_due_ms,
    lastDueMs: r.last_due_ms,
    dueCount: r.due_count,
  };
}

function levelOrder(a: CadenceRow, b: CadenceRow): number {
  return CADENCE_LEVELS.indexOf(a.level) - CADENCE_LEVELS.indexOf(b.level);
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
    this.#conn.run('cadence write failed', () =>
      this.#s.put.run(
        row.namespace,
        row.level,
        row.target,
        row.every,
        row.periodMs,
        row.confirmations,
        row.anchorMs,
        row.nextDueMs,
        row.lastDueMs,
        row.dueCount,
      ),
    );
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
