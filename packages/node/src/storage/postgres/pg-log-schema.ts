import type { PgSchema } from './pg-migrations.js';
import type { TableCopy } from '../migration/table-copy.js';

/**
 * The log's tables in PostgreSQL: the SQLite log database's (sqlite/schema.ts, version 4) with a
 * `log_` prefix, BYTEA for blobs and BIGINT for positions. Forward-only: never edit a released
 * entry, append one.
 *
 * - log_owner: the node this database belongs to (one row). Front ends of one node share it; a
 *   second node pointed at it by mistake is refused at open instead of writing into another
 *   node's logs.
 * - log_tree_state.size is the integrated tree (what checkpoints and proofs cover);
 *   `sequenced` is one past the highest entry index assigned. They are equal when the writer
 *   integrates as it commits (one front end); with several front ends, entries are sequenced
 *   ahead and the lease holder integrates them.
 * - log_entries and log_tiles are the large tables: their primary keys are the only indexes, and
 *   like SQLite's they carry no foreign keys (every write goes through one code path; per-row
 *   checks would cost the append rate).
 */
export const PG_LOG_SCHEMA: PgSchema = {
  store: 'log',
  migrations: [
    `
    CREATE TABLE log_owner (
      singleton  BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (singleton),
      owner      TEXT NOT NULL,
      created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE TABLE log_namespaces (
      key        INTEGER GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      id         TEXT NOT NULL UNIQUE,
      origin     TEXT NOT NULL,
      log_vkey   TEXT NOT NULL,
      created_at TEXT NOT NULL,
      policy     TEXT NOT NULL
    );
    CREATE TABLE log_entries (
      ns   INTEGER NOT NULL,
      idx  BIGINT NOT NULL,
      data BYTEA NOT NULL,
      PRIMARY KEY (ns, idx)
    );
    CREATE TABLE log_tiles (
      ns    INTEGER NOT NULL,
      level SMALLINT NOT NULL,
      idx   BIGINT NOT NULL,
      width SMALLINT NOT NULL CHECK (width BETWEEN 1 AND 256),
      data  BYTEA NOT NULL,
      PRIMARY KEY (ns, level, idx)
    );
    -- Hashes do not compress: keep tiles out of line without trying (a full stored tile is 16 KiB).
    ALTER TABLE log_tiles ALTER COLUMN data SET STORAGE EXTERNAL;
    CREATE TABLE log_tree_state (
      ns            INTEGER PRIMARY KEY REFERENCES log_namespaces (key),
      size          BIGINT NOT NULL CHECK (size >= 0),
      sequenced     BIGINT NOT NULL CHECK (sequenced >= size),
      compact_range BYTEA NOT NULL,
      entry_bytes   BIGINT NOT NULL DEFAULT 0 CHECK (entry_bytes >= 0),
      leaf_indexed  BIGINT NOT NULL DEFAULT 0 CHECK (leaf_indexed >= 0)
    );
    CREATE TABLE log_checkpoints (
      ns           INTEGER NOT NULL,
      size         BIGINT NOT NULL,
      root         BYTEA NOT NULL CHECK (length(root) = 32),
      note         TEXT NOT NULL,
      published_at TEXT NOT NULL,
      PRIMARY KEY (ns, size)
    );
    CREATE TABLE log_leaf_runs (
      ns      INTEGER NOT NULL,
      bucket  SMALLINT NOT NULL CHECK (bucket BETWEEN 0 AND 255),
      chunk   BIGINT NOT NULL,
      records BYTEA NOT NULL,
      PRIMARY KEY (ns, bucket, chunk)
    );
    `,
  ],
};

/**
 * How a SQLite log database (sqlite/schema.ts, version 4) becomes these tables (`remembrancer
 * migrate`): same rows and values; namespace keys kept (every other table refers to them); the
 * sequenced size of a copied log is its integrated size.
 */
export const LOG_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'namespaces',
    to: 'log_namespaces',
    columns: ['key', 'id', 'origin', 'log_vkey', 'created_at', 'policy'],
    identity: 'key',
  },
  {
    from: 'tree_state',
    to: 'log_tree_state',
    columns: ['ns', 'size', { from: 'size', to: 'sequenced' }, 'compact_range', 'entry_bytes', 'leaf_indexed'],
  },
  { from: 'entries', to: 'log_entries', columns: ['ns', 'idx', 'data'] },
  { from: 'tiles', to: 'log_tiles', columns: ['ns', 'level', 'idx', 'width', 'data'] },
  { from: 'checkpoints', to: 'log_checkpoints', columns: ['ns', 'size', 'root', 'note', 'published_at'] },
  { from: 'leaf_runs', to: 'log_leaf_runs', columns: ['ns', 'bucket', 'chunk', 'records'] },
];
