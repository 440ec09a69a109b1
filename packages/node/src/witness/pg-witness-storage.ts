import { RemembrancerError } from '@vaultmesh/core';
import type { PgQueryable } from '../storage/postgres/pg-database.js';
import { PgStoreHandle, type PgStoreOptions } from '../storage/postgres/pg-store-handle.js';
import { PG_WITNESS_SCHEMA, offeredNoteDigest } from './pg-witness-schema.js';
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

export type PgWitnessStorageOptions = PgStoreOptions;

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
 * That makes add-checkpoint safe to serve from every front end: give the fence only if witnessing
 * is to be the lease holder's work, since it is checked in every updateCheckpoints.
 */
export class PgWitnessStorage implements WitnessStorage {
  readonly #handle: PgStoreHandle;

  private constructor(handle: PgStoreHandle) {
    this.#handle = handle;
  }

  /** Connects (for a URL) and brings the store's tables to the current schema. */
  static async open(options: PgStoreOptions): Promise<PgWitnessStorage> {
    return new PgWitnessStorage(await PgStoreHandle.open(options, PG_WITNESS_SCHEMA));
  }

  async get(origin: string): Promise<WitnessedCheckpoint | undefined> {
    const r = await this.#handle.db.row<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints WHERE origin = $1`,
      [origin],
    );
    return r === undefined ? undefined : toCheckpoint(r);
  }

  async getByOriginHash(originHash: string): Promise<WitnessedCheckpoint | undefined> {
    const r = await this.#handle.db.row<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints WHERE origin_hash = $1`,
      [originHash],
    );
    return r === undefined ? undefined : toCheckpoint(r);
  }

  async list(): Promise<WitnessedCheckpoint[]> {
    const rows = await this.#handle.db.rows<CheckpointRow>(
      `SELECT ${CHECKPOINT_COLUMNS} FROM witness_checkpoints ORDER BY origin`,
    );
    return rows.map(toCheckpoint);
  }

  async updateCheckpoints<T>(
    origins: readonly string[],
    decide: (stored: ReadonlyMap<string, WitnessedCheckpoint>) => WitnessDecision<T>,
  ): Promise<WitnessCommit<T>> {
    return this.#handle.db.transaction(
      async (tx) => {
        await this.#handle.fence.check(tx);
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
        ? await this.#handle.db.rows<ConflictRow>(
            `SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts ORDER BY id DESC LIMIT $1`,
            [limit],
          )
        : await this.#handle.db.rows<ConflictRow>(
            `SELECT ${CONFLICT_COLUMNS} FROM witness_conflicts WHERE origin = $1 ORDER BY id DESC LIMIT $2`,
            [origin, limit],
          );
    return rows.map(toConflict);
  }

  async close(): Promise<void> {
    await this.#handle.close();
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
  const digest = offeredNoteDigest(c.offeredNote);
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
