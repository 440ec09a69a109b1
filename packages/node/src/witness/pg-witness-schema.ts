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
