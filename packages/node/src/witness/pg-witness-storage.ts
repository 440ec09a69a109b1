import { createHash } from 'node:crypto';
import { RemembrancerError } from '@vaultmesh/core';
import { PgDatabase, type PgQueryable } from '../storage/postgres/pg-database.js';
import { migratePostgres } from '../storage/postgres/pg-migrations.js';
import { NO_FENCE, type WriteFence } from '../storage/postgres/write-fence.js';
import { storageFailure } from '../storage/storage-failure.js';
import { PG_WITNESS_SCHEMA } from './pg-witness-schema.js';
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
  type WitnessConflict,
  type WitnessedCheckpoint,
} from './witness-records.js';
import type { WitnessCommit, WitnessDecision, WitnessStorage } from './witness-storage.js';

export interface PgWitnessStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in every write transaction; NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

/**
 * Serialises every updateCheckpoints of the database's front ends: the form of the SQLite
 * store's IMMEDIATE transaction. One lock for all origins (not one per origin): a batch spans
 * origins in any order, and per-origin locks taken in request order could deadlock two batches.
 */
const UPDATE_LOCK = 'witness:checkpoints';

/**
 * WitnessStorage on PostgreSQL, shared by the front ends of one node. updateCheckpoints holds
 * UPDATE_LOCK for its transaction, and its writes are still compare-and-set on the size read
 * (as on SQLite), so even a writer without the lock could not overwrite a newer state silently.
 */
export class PgWitnessStorage implements WitnessStorage {
  readonly #db: PgDatabase;
  readonly #ownsDb: boolean;
  readonly #fence: WriteFence;
  #closed = false;

  private constructor(db: PgDatabase, ownsDb: boolean, fence: WriteFence) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    this.#fence = fence;
  }

  /** Connects (for a URL) and brings the witness tables to the current schema. */
  static async open(options: PgWitnessStorageOptions): Promise<PgWitnessStorage> {
    const owns = typeof options.db === 'string';
    const db =
      typeof options.db === 'string' ? await PgDatabase.open({ url: options.db, what: 'witness' }) : options.db;
    try {
      await migratePostgres(db, PG_WITNESS_SCHEMA);
      return new PgWitnessStorage(db, owns, options.fence ?? NO_FENCE);
    } catch (error) {
      if (owns) await db.close().catch(() => undefined);
      throw storageFailure('cannot open the PostgreSQL witness database', error);
    }
  }

  async get(origin: string): Promise<WitnessedCheckpoint | undefined> {
    const r = await this.#open().row<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints WHERE origin = $1`,
      [origin],
    );
    return r === undefined ? undefined : toCheckpoint(r);
  }

  async getByOriginHash(originHash: string): Promise<WitnessedCheckpoint | undefined> {
    const r = await this.#open().row<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints WHERE origin_hash = $1`,
      [originHash],
    );
    return r === undefined ? undefined : toCheckpoint(r);
  }

  async list(): Promise<WitnessedCheckpoint[]> {
    const rows = await this.#open().rows<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints ORDER BY origin`,
    );
    return rows.map(toCheckpoint);
  }

  async updateCheckpoints<T>(
    origins: readonly string[],
    decide: (stored: ReadonlyMap<string, WitnessedCheckpoint>) => WitnessDecision<T>,
  ): Promise<WitnessCommit<T>> {
    return this.#open().transaction(
      async (tx) => {
        await this.#fence.check(tx);
        const rows = await tx.rows<CheckpointRow>(
          `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints WHERE origin = ANY($1::text[])`,
          [[...new Set(origins)]],
        );
        const stored = new Map(rows.map((r) => [r.origin, toCheckpoint(r)]));
        const decision = decide(stored);
        for (const c of decision.checkpoints) await put(tx, stored.get(c.origin)?.size, c);
        const newConflicts: boolean[] = [];
        for (const c of decision.conflicts) newConflicts.push(await recordConflict(tx, c));
        return { result: decision.result, newConflicts };
      },
      { lock: UPDATE_LOCK },
    );
  }

  async conflicts(origin?: string, limit = MAX_CONFLICTS_PER_ORIGIN): Promise<WitnessConflict[]> {
    const rows =
      origin === undefined
        ? await this.#open().rows<ConflictRow>(
            `SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts ORDER BY id DESC LIMIT $1`,
            [limit],
          )
        : await this.#open().rows<ConflictRow>(
            `SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts WHERE origin = $1 ORDER BY id DESC LIMIT $2`,
            [origin, limit],
          );
    return rows.map(toConflict);
  }

  /** The database, unless this storage was closed (SHUTTING_DOWN, even when the PgDatabase is shared and open). */
  #open(): PgDatabase {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'witness database is closed');
    return this.#db;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) await this.#db.close();
  }
}

/** WitnessStore.put's compare-and-set: insert where there was none, else update the row of `previousSize`. */
async function put(tx: PgQueryable, previousSize: number | undefined, next: WitnessedCheckpoint): Promise<void> {
  if (next.root.length !== HASH_SIZE)
    throw new RemembrancerError('STORAGE_FAILURE', 'refusing a root that is not 32 bytes');
  const changes =
    previousSize === undefined
      ? await tx.run(
          `INSERT INTO witness_checkpoints (${CHECKPOINT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT DO NOTHING`,
          checkpointValues(next),
        )
      : await tx.run(
          `UPDATE witness_checkpoints SET size = $1, root = $2, note = $3, cosigned_at = $4, updated_at = $5
           WHERE origin = $6 AND size = $7`,
          [next.size, next.root, next.note, next.cosignedAt, next.updatedAt, next.origin, previousSize],
        );
  if (changes !== 1)
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `witness state of ${JSON.stringify(next.origin)} changed concurrently`,
    );
}

/** Keeps a conflict once per origin and offered note, the newest MAX_CONFLICTS_PER_ORIGIN of the origin; true if new. */
async function recordConflict(tx: PgQueryable, c: WitnessConflict): Promise<boolean> {
  const digest = createHash('sha256').update(c.offeredNote, 'utf8').digest();
  const inserted = await tx.run(
    `INSERT INTO witness_conflicts (${CONFLICT_COLUMNS}, offered_digest) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (origin, offered_digest) DO NOTHING`,
    [...conflictValues(c), digest],
  );
  if (inserted === 0) return false;
  await tx.run(
    `DELETE FROM witness_conflicts WHERE origin = $1 AND id NOT IN (
       SELECT id FROM witness_conflicts WHERE origin = $1 ORDER BY id DESC LIMIT $2)`,
    [c.origin, MAX_CONFLICTS_PER_ORIGIN],
  );
  return true;
}
