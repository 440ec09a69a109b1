import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from './sqlite-file.js';

type Database = BetterSqlite3.Database;

/** 'VMR1': marks the file as a Remembrancer log database for `file(1)` and for us on open. */
export const APPLICATION_ID = 0x564d5231;

/**
 * Forward-only migrations; migration i brings user_version from i to i+1. Never edit a released
 * entry: append a new one.
 *
 * Namespaces get a dense integer key so the large tables index (key, position) instead of a text
 * id. `entries` keeps its implicit rowid: rows carry payloads of up to 64 KiB, which a WITHOUT
 * ROWID B-tree handles poorly. Foreign keys are documented, not enforced: every write goes
 * through one code path and per-row checks would cost the append rate.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE namespaces (
    key        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    origin     TEXT NOT NULL,
    log_vkey   TEXT NOT NULL,
    created_at TEXT NOT NULL,
    policy     TEXT NOT NULL
  );
  -- ns -> namespaces.key. idx is the leaf index; data the canonical entry bytes (<= 65535).
  CREATE TABLE entries (
    ns   INTEGER NOT NULL,
    idx  INTEGER NOT NULL,
    data BLOB NOT NULL,
    PRIMARY KEY (ns, idx)
  );
  -- C2SP tlog-tiles hash tile (level, idx) of width 1..256, stored with its interior rows.
  CREATE TABLE tiles (
    ns    INTEGER NOT NULL,
    level INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    width INTEGER NOT NULL CHECK (width BETWEEN 1 AND 256),
    data  BLOB NOT NULL,
    PRIMARY KEY (ns, level, idx)
  );
  -- Integrated tree: size and compact range (concatenated 32-byte hashes, largest subtree first).
  CREATE TABLE tree_state (
    ns            INTEGER PRIMARY KEY,
    size          INTEGER NOT NULL CHECK (size >= 0),
    compact_range BLOB NOT NULL
  );
  -- Signed checkpoints, newest kept; sizes strictly grow per namespace.
  CREATE TABLE checkpoints (
    ns           INTEGER NOT NULL,
    size         INTEGER NOT NULL,
    root         BLOB NOT NULL,
    note         TEXT NOT NULL,
    published_at TEXT NOT NULL,
    PRIMARY KEY (ns, size)
  );
  `,
  // 2: the stored entry bytes of each namespace, for storage quotas without scanning `entries`;
  // commitBatch adds to it in the same transaction as the entries. Back-filled from existing rows.
  `
  ALTER TABLE tree_state ADD COLUMN entry_bytes INTEGER NOT NULL DEFAULT 0 CHECK (entry_bytes >= 0);
  UPDATE tree_state SET entry_bytes = (SELECT coalesce(sum(length(data)), 0) FROM entries WHERE entries.ns = tree_state.ns);
  `,
  // 3: leaf hash -> index (search by leaf hash), a row per entry keyed by the hash's first 48
  // bits, written by commitBatch in the entries' transaction; leaf_indexed: entries [0, n) indexed.
  // Replaced by 4.
  `
  CREATE TABLE leaf_index (
    ns   INTEGER NOT NULL,
    key  INTEGER NOT NULL,
    idx  INTEGER NOT NULL,
    PRIMARY KEY (ns, key, idx)
  ) WITHOUT ROWID;
  ALTER TABLE tree_state ADD COLUMN leaf_indexed INTEGER NOT NULL DEFAULT 0 CHECK (leaf_indexed >= 0);
  `,
  // 4: the leaf-hash index as sorted runs, one per complete chunk of 65,536 entries (see
  // storage/leaf-runs.ts): 3's row per entry put each insert at a random page of one growing
  // B-tree, which halved the append rate at 500,000 entries. leaf_indexed now counts the entries
  // under runs (a multiple of the chunk); the runs are back-filled on open.
  `
  DROP TABLE leaf_index;
  -- bucket: the leaf hash's first byte; records: sorted (hash bytes 1..5, offset in chunk).
  CREATE TABLE leaf_runs (
    ns      INTEGER NOT NULL,
    bucket  INTEGER NOT NULL CHECK (bucket BETWEEN 0 AND 255),
    chunk   INTEGER NOT NULL,
    records BLOB NOT NULL,
    PRIMARY KEY (ns, bucket, chunk)
  );
  UPDATE tree_state SET leaf_indexed = 0;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Brings the file to the current schema, one migration per transaction (a back-fill of a large
 * log commits on its own); see migrateDatabase for the checks and the locking.
 */
export function migrate(db: Database): void {
  migrateDatabase(db, { applicationId: APPLICATION_ID, migrations: MIGRATIONS, what: 'log' });
}
