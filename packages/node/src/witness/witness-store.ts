import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import { GuardedConnection } from '../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../storage/sqlite/sqlite-file.js';
import { migrateWitnessDb } from './witness-schema.js';
import {
  CHECKPOINT_COLUMNS,
  CONFLICT_COLUMNS,
  HASH_SIZE,
  MAX_CONFLICTS_PER_ORIGIN,
  checkpointValues,
  conflictValues,
  toCheckpoint,
  toConflict,
  type CheckpointRow,
  type ConflictRow,
  type WitnessedCheckpoint,
  type WitnessConflict,
} from './witness-records.js';

// The records moved to witness-records.ts (shared with the PostgreSQL backend); importers of this module keep them.
export {
  MAX_CONFLICTS_PER_ORIGIN,
  type WitnessConflict,
  type WitnessConflictReason,
  type WitnessedCheckpoint,
} from './witness-records.js';

/**
 * The witness's own SQLite file (never the log database): WAL with synchronous FULL, so a
 * cosigned state is on disk before the cosignature leaves the process, and an acknowledged
 * checkpoint survives power loss. Other connections (another process on the same file) are
 * serialized by SQLite's write lock: every read-check-write runs in one IMMEDIATE transaction.
 */
export class WitnessStore {
  readonly path: string;
  readonly #conn: GuardedConnection;
  readonly #s: Record<
    | 'get'
    | 'getByHash'
    | 'list'
    | 'insert'
    | 'update'
    | 'insertConflict'
    | 'pruneConflicts'
    | 'conflicts'
    | 'allConflicts',
    Database.Statement
  >;

  constructor(options: { path: string; busyTimeoutMs?: number }) {
    this.path = options.path;
    // Synchronous FULL: the WAL is fsynced at every commit, i.e. before any cosignature is returned
    // (https://c2sp.org/tlog-witness: "The witness MUST persist the new checkpoint before responding").
    const db = openDurableDatabase(options.path, 'witness', options.busyTimeoutMs);
    try {
      migrateWitnessDb(db);
      const cols = CHECKPOINT_COLUMNS;
      this.#s = {
        get: db.prepare(`SELECT ${cols} FROM witness_checkpoints WHERE origin = ?`),
        getByHash: db.prepare(`SELECT ${cols} FROM witness_checkpoints WHERE origin_hash = ?`),
        list: db.prepare(`SELECT ${cols} FROM witness_checkpoints ORDER BY origin`),
        insert: db.prepare(`INSERT INTO witness_checkpoints (${cols}) VALUES (?, ?, ?, ?, ?, ?, ?)`),
        // Compare-and-swap on the size the checks were made against.
        update: db.prepare(
          'UPDATE witness_checkpoints SET size = ?, root = ?, note = ?, cosigned_at = ?, updated_at = ? WHERE origin = ? AND size = ?',
        ),
        insertConflict: db.prepare(
          `INSERT INTO witness_conflicts (${CONFLICT_COLUMNS})
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin, offered_note) DO NOTHING`,
        ),
        pruneConflicts: db.prepare(
          `DELETE FROM witness_conflicts WHERE origin = ? AND id NOT IN (
             SELECT id FROM witness_conflicts WHERE origin = ? ORDER BY id DESC LIMIT ?)`,
        ),
        conflicts: db.prepare(
          `SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts WHERE origin = ? ORDER BY id DESC LIMIT ?`,
        ),
        allConflicts: db.prepare(`SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts ORDER BY id DESC LIMIT ?`),
      };
    } catch (cause) {
      db.close();
      throw storageFailure(`cannot initialise witness database ${options.path}`, cause);
    }
    this.#conn = new GuardedConnection(db, 'witness');
  }

  /**
   * Runs fn in an IMMEDIATE transaction: the write lock is taken before the first read, so the
   * stored size fn checks is the one its write replaces, across connections and processes.
   */
  atomically<T>(fn: () => T): T {
    return this.#conn.atomically(fn);
  }

  get(origin: string): WitnessedCheckpoint | undefined {
    return this.#conn.read(() => {
      const r = this.#s.get.get(origin) as CheckpointRow | undefined;
      return r === undefined ? undefined : toCheckpoint(r);
    });
  }

  getByOriginHash(originHash: string): WitnessedCheckpoint | undefined {
    return this.#conn.read(() => {
      const r = this.#s.getByHash.get(originHash) as CheckpointRow | undefined;
      return r === undefined ? undefined : toCheckpoint(r);
    });
  }

  list(): WitnessedCheckpoint[] {
    return this.#conn.read(() => (this.#s.list.all() as CheckpointRow[]).map(toCheckpoint));
  }

  /**
   * Stores `next` as the latest cosigned checkpoint of its origin, replacing the row of size
   * `previousSize` (undefined: there must be none). Throws if the row changed meanwhile; inside
   * atomically() that cannot happen, so a throw means a bug or a corrupt file, never a rollback.
   */
  put(previousSize: number | undefined, next: WitnessedCheckpoint): void {
    this.#conn.assertOpen();
    if (next.root.length !== HASH_SIZE)
      throw new RemembrancerError('STORAGE_FAILURE', 'refusing a root that is not 32 bytes');
    const changes =
      previousSize === undefined
        ? this.#s.insert.run(...checkpointValues(next)).changes
        : this.#s.update.run(
            next.size,
            next.root,
            next.note,
            next.cosignedAt,
            next.updatedAt,
            next.origin,
            previousSize,
          ).changes;
    if (changes !== 1) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `witness state of ${JSON.stringify(next.origin)} changed concurrently`,
      );
    }
  }

  /** Keeps a conflict (once per offered note and origin); true if it is new. */
  recordConflict(c: WitnessConflict): boolean {
    this.#conn.assertOpen();
    const r = this.#s.insertConflict.run(...conflictValues(c));
    if (r.changes === 0) return false;
    this.#s.pruneConflicts.run(c.origin, c.origin, MAX_CONFLICTS_PER_ORIGIN);
    return true;
  }

  /** Recorded conflicts, newest first; of one origin or of all. */
  conflicts(origin?: string, limit = MAX_CONFLICTS_PER_ORIGIN): WitnessConflict[] {
    return this.#conn.read(() =>
      (
        (origin === undefined ? this.#s.allConflicts.all(limit) : this.#s.conflicts.all(origin, limit)) as ConflictRow[]
      ).map(toConflict),
    );
  }

  close(): void {
    this.#conn.close();
  }
}
