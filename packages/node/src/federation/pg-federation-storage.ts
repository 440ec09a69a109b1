import { RemembrancerError, canonicalize, type RegistrySet } from '@vaultmesh/core';
import { PgStoreHandle, type PgStoreOptions } from '../storage/postgres/pg-store-handle.js';
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

export type PgFederationStorageOptions = PgStoreOptions;

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
  readonly #handle: PgStoreHandle;

  private constructor(handle: PgStoreHandle) {
    this.#handle = handle;
  }

  /** Connects (for a URL) and brings the store's tables to the current schema. */
  static async open(options: PgStoreOptions): Promise<PgFederationStorage> {
    return new PgFederationStorage(await PgStoreHandle.open(options, PG_FEDERATION_SCHEMA));
  }

  async registryVersions(): Promise<RegistrySet[]> {
    const rows = await this.#handle.db.rows<{ doc: string }>(
      'SELECT doc FROM federation_registry_versions ORDER BY version',
    );
    return rows.map((r) => toRegistry(r.doc));
  }

  async latestRegistry(): Promise<RegistrySet | undefined> {
    const r = await this.#handle.db.row<{ doc: string }>(
      'SELECT doc FROM federation_registry_versions ORDER BY version DESC LIMIT 1',
    );
    return r === undefined ? undefined : toRegistry(r.doc);
  }

  async addRegistryVersion(set: RegistrySet, acceptedAt: string): Promise<void> {
    const inserted = await this.#handle.db.run(
      `INSERT INTO federation_registry_versions (${REGISTRY_COLUMNS}) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING`,
      registryValues(set, acceptedAt),
    );
    if (inserted !== 1)
      throw new RemembrancerError('REGISTRY_STALE', `registry version ${set.version} is already stored`);
  }

  async rememberNonce(keyid: string, nonce: string, created: number, forgetBefore: number): Promise<boolean> {
    const db = this.#handle.db;
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
    await this.#handle.db.transaction(async (tx) => {
      await this.#handle.fence.check(tx);
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
    return this.#handle.db.rows<StoredCosignature>(
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
    const inserted = await this.#handle.db.run(
      `INSERT INTO federation_evidence (${EVIDENCE_COLUMNS}) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`,
      evidenceValues(digest, origin, doc, receivedAt, registryVersion),
    );
    return inserted === 1;
  }

  async evidence(origin?: string): Promise<StoredEvidence[]> {
    const rows =
      origin === undefined
        ? await this.#handle.db.rows<EvidenceRow>(
            `SELECT ${EVIDENCE_COLUMNS} FROM federation_evidence ORDER BY received_at, digest`,
          )
        : await this.#handle.db.rows<EvidenceRow>(
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
    const db = this.#handle.db;
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
    await this.#handle.db.run(
      `INSERT INTO federation_evidence_deliveries (digest, peer, delivered_at) VALUES ($1, $2, $3)
       ON CONFLICT DO NOTHING`,
      [digest, peer, deliveredAt],
    );
  }

  async evidenceDeliveries(digest: string): Promise<string[]> {
    const rows = await this.#handle.db.rows<{ peer: string }>(
      'SELECT peer FROM federation_evidence_deliveries WHERE digest = $1 ORDER BY peer',
      [digest],
    );
    return rows.map((r) => r.peer);
  }

  async close(): Promise<void> {
    await this.#handle.close();
  }
}
