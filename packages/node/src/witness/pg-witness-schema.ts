import { createHash } from 'node:crypto';
import { RemembrancerError } from '@vaultmesh/core';
import type { TableCopy } from '../storage/migration/table-copy.js';
import type { SqlScalar } from '../storage/postgres/pg-database.js';
import type { PgSchema } from '../storage/postgres/pg-migrations.js';

/**
 * The witness's tables in PostgreSQL: witness-schema.ts's, with BYTEA for blobs and BIGINT for
 * sizes and times. Origins are COLLATE "C" so list() orders them by bytes, as SQLite does.
 * `offered_digest` (SHA-256 of the offered note, PostgreSQL only) carries the once-per-note
 * uniqueness: a note can be longer than a btree entry may be. Forward-only: never edit a released
 * entry, append one.
 */
export const PG_WITNESS_SCHEMA: PgSchema = {
  store: 'witness',
  migrations: [
    `
    CREATE TABLE witness_checkpoints (
      origin      TEXT COLLATE "C" PRIMARY KEY,
      origin_hash TEXT NOT NULL UNIQUE,
      size        BIGINT NOT NULL CHECK (size >= 0),
      root        BYTEA NOT NULL CHECK (octet_length(root) = 32),
      note        TEXT NOT NULL,
      cosigned_at BIGINT NOT NULL CHECK (cosigned_at > 0),
      updated_at  TEXT NOT NULL
    );
    CREATE TABLE witness_conflicts (
      id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      origin         TEXT NOT NULL,
      reason         TEXT NOT NULL,
      stored_note    TEXT NOT NULL,
      offered_note   TEXT NOT NULL,
      offered_digest BYTEA NOT NULL,
      old_size       BIGINT NOT NULL,
      proof          BYTEA NOT NULL,
      observed_at    TEXT NOT NULL,
      UNIQUE (origin, offered_digest)
    );
    CREATE INDEX witness_conflicts_origin_id ON witness_conflicts (origin, id);
    `,
  ],
};

/** SHA-256 of an offered note's UTF-8 bytes: the digest PgWitnessStorage keys conflicts by. */
export function offeredNoteDigest(note: SqlScalar): Uint8Array {
  if (typeof note !== 'string')
    throw new RemembrancerError('STORAGE_FAILURE', 'witness_conflicts.offered_note is not text');
  return createHash('sha256').update(note, 'utf8').digest();
}

/**
 * How a SQLite witness file (witness-schema.ts, version 1) becomes these tables (`remembrancer
 * migrate`): same rows and values; conflict ids kept (they order conflicts, newest first) and
 * offered_digest computed from the offered note.
 */
export const WITNESS_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'witness_checkpoints',
    to: 'witness_checkpoints',
    columns: ['origin', 'origin_hash', 'size', 'root', 'note', 'cosigned_at', 'updated_at'],
  },
  {
    from: 'witness_conflicts',
    to: 'witness_conflicts',
    columns: [
      'id',
      'origin',
      'reason',
      'stored_note',
      'offered_note',
      { from: 'offered_note', to: 'offered_digest', map: offeredNoteDigest },
      'old_size',
      'proof',
      'observed_at',
    ],
    identity: 'id',
  },
];
