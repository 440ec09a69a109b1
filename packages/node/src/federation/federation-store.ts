import Database from 'better-sqlite3';
import { RemembrancerError, canonicalize, type RegistrySet } from '@vaultmesh/core';
import { createPrivateDatabaseFile } from '../storage/sqlite/sqlite-file.js';
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

// The records moved to federation-records.ts (shared with the PostgreSQL backend); importers of this module keep them.
export type { StoredEvidence } from './federation-records.js';

/**
 * A node's federation state, in its own SQLite file beside the log database: every registry
 * version it accepted (so old signatures stay checkable against the version then in force), the
 * request nonces it has seen (replay protection survives a restart), equivocation evidence
 * with the peers known to hold it, and the first epoch signature seen of each peer per epoch.
 */
export class FederationStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    // Mode 0600 (and so its -wal/-shm) whatever the umask: it holds cosignatures of private namespaces.
    createPrivateDatabaseFile(path);
    this.db = new Database(path);
    try {
      this.db.pragma('journal_mode = WAL');
      this.db.pragma('synchronous = FULL');
      this.db.pragma('busy_timeout = 5000');
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS registry_versions (
          version     INTEGER PRIMARY KEY,
          digest      TEXT NOT NULL UNIQUE,
          doc         TEXT NOT NULL,
          accepted_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS seen_nonces (
          keyid   TEXT NOT NULL,
          nonce   TEXT NOT NULL,
          created INTEGER NOT NULL,
          PRIMARY KEY (keyid, nonce)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS seen_nonces_created ON seen_nonces (created);
        CREATE TABLE IF NOT EXISTS cosignatures (
          origin    TEXT NOT NULL,
          size      INTEGER NOT NULL,
          root      TEXT NOT NULL,
          witness   TEXT NOT NULL,
          line      TEXT NOT NULL,
          timestamp INTEGER NOT NULL,
          PRIMARY KEY (origin, size, witness)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS evidence (
          digest      TEXT PRIMARY KEY,
          origin      TEXT NOT NULL,
          doc         TEXT NOT NULL,
          received_at TEXT NOT NULL
        );
        CREATE TABLE IF NOT EXISTS epoch_signatures (
          epoch_key TEXT NOT NULL,
          signer    TEXT NOT NULL,
          statement TEXT NOT NULL,
          sig       TEXT NOT NULL,
          seen_at   INTEGER NOT NULL,
          PRIMARY KEY (epoch_key, signer)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS epoch_signatures_seen ON epoch_signatures (seen_at);
        CREATE TABLE IF NOT EXISTS evidence_deliveries (
          digest       TEXT NOT NULL,
          peer         TEXT NOT NULL,
          delivered_at TEXT NOT NULL,
          PRIMARY KEY (digest, peer)
        ) WITHOUT ROWID;
      `);
      // Stores made before evidence settled by registry versions: their evidence counts as held
      // under no version (0), i.e. settled by any registry in force.
      const columns = this.db.prepare('PRAGMA table_info(evidence)').all() as Array<{ name: string }>;
      if (!columns.some((c) => c.name === 'registry_version')) {
        this.db.exec('ALTER TABLE evidence ADD COLUMN registry_version INTEGER NOT NULL DEFAULT 0');
      }
      this.db.exec('CREATE INDEX IF NOT EXISTS evidence_origin_version ON evidence (origin, registry_version)');
    } catch (e) {
      this.db.close();
      throw new RemembrancerError('STORAGE_FAILURE', `cannot open federation store ${path}`, { cause: e });
    }
  }

  registryVersions(): RegistrySet[] {
    const rows = this.db.prepare('SELECT doc FROM registry_versions ORDER BY version').all() as Array<{ doc: string }>;
    return rows.map((r) => toRegistry(r.doc));
  }

  latestRegistry(): RegistrySet | undefined {
    const row = this.db.prepare('SELECT doc FROM registry_versions ORDER BY version DESC LIMIT 1').get() as
      { doc: string } | undefined;
    return row ? toRegistry(row.doc) : undefined;
  }

  /** Stores a version the caller has verified against the latest one; the version must be new. */
  addRegistryVersion(set: RegistrySet, acceptedAt: string): void {
    try {
      this.db
        .prepare(`INSERT INTO registry_versions (${REGISTRY_COLUMNS}) VALUES (?, ?, ?, ?)`)
        .run(...registryValues(set, acceptedAt));
    } catch (e) {
      throw new RemembrancerError('REGISTRY_STALE', `registry version ${set.version} is already stored`, { cause: e });
    }
  }

  /**
   * Records a request nonce; false if this key already used it (a replay). Nonces older than
   * `forgetBefore` (unix seconds) are dropped: requests that old fail the clock-skew check anyway.
   */
  rememberNonce(keyid: string, nonce: string, created: number, forgetBefore: number): boolean {
    const insert = this.db.prepare('INSERT OR IGNORE INTO seen_nonces (keyid, nonce, created) VALUES (?, ?, ?)');
    const prune = this.db.prepare('DELETE FROM seen_nonces WHERE created < ?');
    return this.db.transaction(() => {
      prune.run(forgetBefore);
      return insert.run(keyid, nonce, created).changes === 1;
    })();
  }

  /** Keeps the newest cosignature of each witness on one checkpoint (origin, size, root). */
  addCosignature(origin: string, size: number, root: string, witness: string, line: string, timestamp: number): void {
    this.db
      .prepare(
        `INSERT INTO cosignatures (origin, size, root, witness, line, timestamp) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (origin, size, witness) DO UPDATE SET line = excluded.line, timestamp = excluded.timestamp, root = excluded.root
         WHERE excluded.root = cosignatures.root`,
      )
      .run(origin, size, root, witness, line, timestamp);
  }

  cosignatures(origin: string, size: number, root: string): StoredCosignature[] {
    return this.db
      .prepare(
        'SELECT witness, line, timestamp FROM cosignatures WHERE origin = ? AND size = ? AND root = ? ORDER BY witness',
      )
      .all(origin, size, root) as StoredCosignature[];
  }

  /**
   * Stores evidence once (keyed by digest); true if it was new. `registryVersion` is the version
   * in force when it was accepted: a later version settles it (see EvidenceLedger.refused).
   */
  addEvidence(digest: string, origin: string, doc: unknown, receivedAt: string, registryVersion: number): boolean {
    return (
      this.db
        .prepare(`INSERT OR IGNORE INTO evidence (${EVIDENCE_COLUMNS}) VALUES (?, ?, ?, ?, ?)`)
        .run(...evidenceValues(digest, origin, doc, receivedAt, registryVersion)).changes === 1
    );
  }

  /** Evidence held, oldest first; of one origin or of all. */
  evidence(origin?: string): StoredEvidence[] {
    const cols = EVIDENCE_COLUMNS;
    const rows = (
      origin === undefined
        ? this.db.prepare(`SELECT ${cols} FROM evidence ORDER BY received_at, digest`).all()
        : this.db.prepare(`SELECT ${cols} FROM evidence WHERE origin = ? ORDER BY received_at, digest`).all(origin)
    ) as EvidenceRow[];
    return rows.map(toStoredEvidence);
  }

  /**
   * The first valid signature `signer` was seen to give for an epoch (`epochKey`), recording this
   * one if it is the first: what a later, different statement of that signer is compared with.
   * Rows older than `forgetBeforeMs` are dropped (an epoch that old has long been decided).
   */
  firstEpochSignature(
    epochKey: string,
    signer: string,
    statement: unknown,
    sig: string,
    seenAtMs: number,
    forgetBeforeMs: number,
  ): HeldEpochSignature {
    const insert = this.db.prepare(
      'INSERT OR IGNORE INTO epoch_signatures (epoch_key, signer, statement, sig, seen_at) VALUES (?, ?, ?, ?, ?)',
    );
    const prune = this.db.prepare('DELETE FROM epoch_signatures WHERE seen_at < ?');
    const held = this.db.prepare('SELECT statement, sig FROM epoch_signatures WHERE epoch_key = ? AND signer = ?');
    const row = this.db.transaction(() => {
      if (insert.run(epochKey, signer, canonicalize(statement), sig, seenAtMs).changes === 1) prune.run(forgetBeforeMs);
      return held.get(epochKey, signer) as { statement: string; sig: string };
    })();
    return toHeldEpochSignature(row);
  }

  /** Records that `peer` holds the evidence (it acknowledged a push, or sent or made it). */
  markEvidenceDelivered(digest: string, peer: string, deliveredAt: string): void {
    this.db
      .prepare('INSERT OR IGNORE INTO evidence_deliveries (digest, peer, delivered_at) VALUES (?, ?, ?)')
      .run(digest, peer, deliveredAt);
  }

  /** The peers known to hold the evidence. */
  evidenceDeliveries(digest: string): string[] {
    return (
      this.db.prepare('SELECT peer FROM evidence_deliveries WHERE digest = ? ORDER BY peer').all(digest) as Array<{
        peer: string;
      }>
    ).map((r) => r.peer);
  }

  close(): void {
    this.db.close();
  }
}
