import type { TableCopy } from '../storage/migration/table-copy.js';
import type { PgSchema } from '../storage/postgres/pg-migrations.js';

/**
 * The federation tables in PostgreSQL: federation-store.ts's with a `federation_` prefix and
 * BIGINT for sizes, versions and times. Keys that results are ordered by are COLLATE "C", so they
 * come in byte order as from SQLite. Forward-only: never edit a released entry, append one.
 */
export const PG_FEDERATION_SCHEMA: PgSchema = {
  store: 'federation',
  migrations: [
    `
    CREATE TABLE federation_registry_versions (
      version     BIGINT PRIMARY KEY,
      digest      TEXT NOT NULL UNIQUE,
      doc         TEXT NOT NULL,
      accepted_at TEXT NOT NULL
    );
    CREATE TABLE federation_nonces (
      keyid   TEXT NOT NULL,
      nonce   TEXT NOT NULL,
      created BIGINT NOT NULL,
      PRIMARY KEY (keyid, nonce)
    );
    CREATE INDEX federation_nonces_created ON federation_nonces (created);
    CREATE TABLE federation_cosignatures (
      origin    TEXT NOT NULL,
      size      BIGINT NOT NULL,
      root      TEXT NOT NULL,
      witness   TEXT COLLATE "C" NOT NULL,
      line      TEXT NOT NULL,
      timestamp BIGINT NOT NULL,
      PRIMARY KEY (origin, size, witness)
    );
    CREATE TABLE federation_evidence (
      digest           TEXT COLLATE "C" PRIMARY KEY,
      origin           TEXT NOT NULL,
      doc              TEXT NOT NULL,
      received_at      TEXT COLLATE "C" NOT NULL,
      registry_version BIGINT NOT NULL
    );
    CREATE INDEX federation_evidence_received ON federation_evidence (received_at, digest);
    CREATE INDEX federation_evidence_origin ON federation_evidence (origin, received_at, digest);
    CREATE TABLE federation_epoch_signatures (
      epoch_key TEXT NOT NULL,
      signer    TEXT NOT NULL,
      statement TEXT NOT NULL,
      sig       TEXT NOT NULL,
      seen_at   BIGINT NOT NULL,
      PRIMARY KEY (epoch_key, signer)
    );
    CREATE INDEX federation_epoch_signatures_seen ON federation_epoch_signatures (seen_at);
    CREATE TABLE federation_evidence_deliveries (
      digest       TEXT NOT NULL,
      peer         TEXT COLLATE "C" NOT NULL,
      delivered_at TEXT NOT NULL,
      PRIMARY KEY (digest, peer)
    );
    `,
  ],
};

/**
 * How the SQLite federation file (federation.sqlite, federation-store.ts's tables with
 * evidence.registry_version) becomes these tables (`remembrancer migrate`): same rows and values,
 * the SQLite names without the prefix.
 */
export const FEDERATION_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'registry_versions',
    to: 'federation_registry_versions',
    columns: ['version', 'digest', 'doc', 'accepted_at'],
  },
  { from: 'seen_nonces', to: 'federation_nonces', columns: ['keyid', 'nonce', 'created'] },
  {
    from: 'cosignatures',
    to: 'federation_cosignatures',
    columns: ['origin', 'size', 'root', 'witness', 'line', 'timestamp'],
  },
  {
    from: 'evidence',
    to: 'federation_evidence',
    columns: ['digest', 'origin', 'doc', 'received_at', 'registry_version'],
  },
  {
    from: 'epoch_signatures',
    to: 'federation_epoch_signatures',
    columns: ['epoch_key', 'signer', 'statement', 'sig', 'seen_at'],
  },
  { from: 'evidence_deliveries', to: 'federation_evidence_deliveries', columns: ['digest', 'peer', 'delivered_at'] },
];
