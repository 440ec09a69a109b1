import { RemembrancerError, canonicalize, type RegistrySet } from '@vaultmesh/core';
import { PgDatabase } from '../storage/postgres/pg-database.js';
import { migratePostgres } from '../storage/postgres/pg-migrations.js';
import { NO_FENCE, type WriteFence } from '../storage/postgres/write-fence.js';
import { storageFailure } from '../storage/storage-failure.js';
import {
  EVIDENCE_COLUMNS,
  REGISTRY_COLUMNS,
  evidenceValues,
  registryValues,
  toHeldEpochSignature,
  toRegistry,
  toStoredEvidence,
  type EvidenceRow,
  type HeldEpochSignature,
  type StoredCosignature,
  type StoredEvidence,
} from './federation-records.js';
import type { FederationStorage } from './federation-storage.js';
import { PG_FEDERATION_SCHEMA } from './pg-federation-schema.js';

export interface PgFederationStorageOptions {
  /** The database; a URL opens a pool of its own (closed with the storage), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in the writes of the lease holder's work (cosignatures); NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

/**
 * FederationStorage on PostgreSQL, shared by the front ends of one node. Each compound operation
 * rests on a primary key: ON CONFLICT DO NOTHING decides the one winner of a nonce, an evidence
 * digest, a registry version or a first epoch signature, whichever front end asks.
 *
 * The fence guards addCosignature only: cosigning is the lease holder's work (issue 14). The
 * other writes are how any front end serves a request (a peer's nonce, evidence, registry
 * version, epoch signature): fencing them would make every front end but one refuse peers, and
 * each is safe from any writer — a compare-and-set or an idempotent insert.
 */
export class PgFederationStorage implements FederationStorage {
  readonly #db: PgDatabase;
  readonly #ownsDb: boolean;
  readonly #fence: WriteFence;
  #closed = false;

  private constructor(db: PgDatabase, ownsDb: boolean, fence: WriteFence) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    this.#fence = fence;
  }

  /** Connects (for a URL) and brings the federation tables to the current schema. */
  static async open(options: PgFederationStorageOptions): Promise<PgFederationStorage> {
    const owns = typeof options.db === 'string';
    const db =
      typeof options.db === 'string' ? await PgDatabase.open({ url: options.db, what: 'federation' }) : options.db;
    try {
      await migratePostgres(db, PG_FEDERATION_SCHEMA);
      return new PgFederationStorage(db, owns, options.fence ?? NO_FENCE);
    } catch (error) {
      if (owns) await db.close().catch(() => undefined);
      throw storageFailure('cannot open the PostgreSQL federation database', error);
    }
  }

  async registryVersions(): Promise<RegistrySet[]> {
    const rows = await this.#open().rows<{ doc: string }>(
      'SELECT doc FROM federation_registry_versions ORDER BY version',
    );
    return rows.map((r) => toRegistry(r.doc));
  }

  async latestRegistry(): Promise<RegistrySet | undefined> {
    const r = await this.#open().row<{ doc: string }>(
      'SELECT doc FROM federation_registry_versions ORDER BY version DESC LIMIT 1',
    );
    return r === undefined ? undefined : toRegistry(r.doc);
  }

  async addRegistryVersion(set: RegistrySet, acceptedAt: string): Promise<void> {
    const inserted = await this.#open().run(
      `INSERT INTO federation_registry_versions (${REGISTRY_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      registryValues(set, acceptedAt),
    );
    if (inserted !== 1)
      throw new RemembrancerError('REGISTRY_STALE', `registry version ${set.version} is already stored`);
  }

  async rememberNonce(keyid: string, nonce: string, created: number, forgetBefore: number): Promise<boolean> {
    const db = this.#open();
    // Two statements, no transaction: the insert alone decides the replay (the primary key), and
    // pruning first keeps SQLite's answer for a nonce older than the window (forgotten, so new).
    await db.run('DELETE FROM federation_nonces WHERE created < $1', [forgetBefore]);
    const inserted = await db.run(
      'INSERT INTO federation_nonces (keyid, nonce, created) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [keyid, nonce, created],
    );
    return inserted === 1;
  }

  async addCosignature(
    origin: string,
    size: number,
    root: string,
    witness: string,
    line: string,
    timestamp: number,
  ): Promise<void> {
    await this.#open().transaction(async (tx) => {
      await this.#fence.check(tx);
      await tx.run(
        `INSERT INTO federation_cosignatures AS c (origin, size, root, witness, line, timestamp)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (origin, size, witness) DO UPDATE
           SET line = EXCLUDED.line, timestamp = EXCLUDED.timestamp, root = EXCLUDED.root
           WHERE EXCLUDED.root = c.root`,
        [origin, size, root, witness, line, timestamp],
      );
    });
  }

  async cosignatures(origin: string, size: number, root: string): Promise<StoredCosignature[]> {
    return this.#open().rows<StoredCosignature>(
      `SELECT witness, line, timestamp FROM federation_cosignatures
       WHERE origin = $1 AND size = $2 AND root = $3 ORDER BY witness`,
      [origin, size, root],
    );
  }

  async addEvidence(
    digest: string,
    origin: string,
    doc: unknown,
    receivedAt: string,
    registryVersion: number,
  ): Promise<boolean> {
    const inserted = await this.#open().run(
      `INSERT INTO federation_evidence (${EVIDENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      evidenceValues(digest, origin, doc, receivedAt, registryVersion),
    );
    return inserted === 1;
  }

  async evidence(origin?: string): Promise<StoredEvidence[]> {
    const rows =
      origin === undefined
        ? await this.#open().rows<EvidenceRow>(
            `SELECT ${EVIDENCE_COLUMNS} FROM federation_evidence ORDER BY received_at, digest`,
          )
        : await this.#open().rows<EvidenceRow>(
            `SELECT ${EVIDENCE_COLUMNS} FROM federation_evidence WHERE origin = $1 ORDER BY received_at, digest`,
            [origin],
          );
    return rows.map(toStoredEvidence);
  }

  async firstEpochSignature(
    epochKey: string,
    signer: string,
    statement: unknown,
    sig: string,
    seenAtMs: number,
    forgetBeforeMs: number,
  ): Promise<HeldEpochSignature> {
    const db = this.#open();
    // The read is its own statement after the insert: under READ COMMITTED it sees the row of a
    // front end whose insert won (ON CONFLICT waited for it to commit); one statement with a CTE
    // would read from a snapshot taken before that commit and find nothing.
    const inserted = await db.run(
      `INSERT INTO federation_epoch_signatures (epoch_key, signer, statement, sig, seen_at)
       VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      [epochKey, signer, canonicalize(statement), sig, seenAtMs],
    );
    if (inserted === 1) {
      await db.run(
        'DELETE FROM federation_epoch_signatures WHERE seen_at < $1 AND NOT (epoch_key = $2 AND signer = $3)',
        [forgetBeforeMs, epochKey, signer],
      );
    }
    const held = await db.row<{ statement: string; sig: string }>(
      'SELECT statement, sig FROM federation_epoch_signatures WHERE epoch_key = $1 AND signer = $2',
      [epochKey, signer],
    );
    if (held === undefined)
      throw new RemembrancerError('STORAGE_FAILURE', `epoch signature of ${signer} for ${epochKey} vanished`);
    return toHeldEpochSignature(held);
  }

  async markEvidenceDelivered(digest: string, peer: string, deliveredAt: string): Promise<void> {
    await this.#open().run(
      `INSERT INTO federation_evidence_deliveries (digest, peer, delivered_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [digest, peer, deliveredAt],
    );
  }

  async evidenceDeliveries(digest: string): Promise<string[]> {
    const rows = await this.#open().rows<{ peer: string }>(
      'SELECT peer FROM federation_evidence_deliveries WHERE digest = $1 ORDER BY peer',
      [digest],
    );
    return rows.map((r) => r.peer);
  }

  /** The database, unless this storage was closed (SHUTTING_DOWN, even when the PgDatabase is shared and open). */
  #open(): PgDatabase {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'federation database is closed');
    return this.#db;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) await this.#db.close();
  }
}
