import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import { GuardedConnection } from '../storage/sqlite/guarded-connection.js';
import { openDurableDatabase, storageFailure } from '../storage/sqlite/sqlite-file.js';
import { migrateWitnessDb } from './witness-schema.js';

const HASH_SIZE = 32;

/** The latest checkpoint a witness cosigned for one log. */
export interface WitnessedCheckpoint {
  readonly origin: string;
  /** Lowercase hex SHA-256 of the origin: the monitoring path segment. */
  readonly originHash: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** Checkpoint text, the log signatures that verified, and this witness's cosignature. */
  readonly note: string;
  /** POSIX seconds in that cosignature. */
  readonly cosignedAt: number;
  /** ISO 8601 time of the last update. */
  readonly updatedAt: string;
}

export type WitnessConflictReason = 'same-size-different-root' | 'inconsistent-proof';

/** A validly signed checkpoint that contradicts the one the witness cosigned: equivocation evidence to examine. */
export interface WitnessConflict {
  readonly origin: string;
  readonly reason: WitnessConflictReason;
  /** The note the witness had cosigned (at `oldSize`). */
  readonly storedNote: string;
  /** The offered checkpoint note, verbatim; its log signature verified. */
  readonly offeredNote: string;
  readonly oldSize: number;
  /** The consistency proof that came with it (empty for same-size conflicts). */
  readonly proof: readonly Uint8Array[];
  /** ISO 8601. */
  readonly observedAt: string;
}

/** Validly signed conflicting checkpoints kept per origin (newest first); older ones are dropped. */
export const MAX_CONFLICTS_PER_ORIGIN = 100;

interface CheckpointRow {
  origin: string;
  origin_hash: string;
  size: number;
  root: Uint8Array;
  note: string;
  cosigned_at: number;
  updated_at: string;
}

interface ConflictRow {
  origin: string;
  reason: string;
  stored_note: string;
  offered_note: string;
  old_size: number;
  proof: Uint8Array;
  observed_at: string;
}

function toCheckpoint(r: CheckpointRow): WitnessedCheckpoint {
  return {
    origin: r.origin,
    originHash: r.origin_hash,
    size: r.size,
    root: new Uint8Array(r.root),
    note: r.note,
    cosignedAt: r.cosigned_at,
    updatedAt: r.updated_at,
  };
}

function toConflict(r: ConflictRow): WitnessConflict {
  const proof: Uint8Array[] = [];
  for (let o = 0; o + HASH_SIZE <= r.proof.length; o += HASH_SIZE)
    proof.push(new Uint8Array(r.proof.subarray(o, o + HASH_SIZE)));
  return {
    origin: r.origin,
    reason: r.reason as WitnessConflictReason,
    storedNote: r.stored_note,
    offeredNote: r.offered_note,
    oldSize: r.old_size,
    proof,
    observedAt: r.observed_at,
  };
}

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
      const cols = 'origin, origin_hash, size, root, note, cosigned_at, updated_at';
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
          `INSERT INTO witness_conflicts (origin, reason, stored_note, offered_note, old_size, proof, observed_at)
           VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (origin, offered_note) DO NOTHING`,
        ),
        pruneConflicts: db.prepare(
          `DELETE FROM witness_conflicts WHERE origin = ? AND id NOT IN (
             SELECT id FROM witness_conflicts WHERE origin = ? ORDER BY id DESC LIMIT ?)`,
        ),
        conflicts: db.prepare(
          'SELECT origin, reason, stored_note, offered_note, old_size, proof, observed_at FROM witness_conflicts WHERE origin = ? ORDER BY id DESC LIMIT ?',
        ),
        allConflicts: db.prepare(
          'SELECT origin, reason, stored_note, offered_note, old_size, proof, observed_at FROM witness_conflicts ORDER BY id DESC LIMIT ?',
        ),
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
        ? this.#s.insert.run(
            next.origin,
            next.originHash,
            next.size,
            next.root,
            next.note,
            next.cosignedAt,
            next.updatedAt,
          ).changes
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
    const proof = new Uint8Array(c.proof.length * HASH_SIZE);
    c.proof.forEach((h, i) => proof.set(h, i * HASH_SIZE));
    const r = this.#s.insertConflict.run(
      c.origin,
      c.reason,
      c.storedNote,
      c.offeredNote,
      c.oldSize,
      proof,
      c.observedAt,
    );
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
