import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from '../storage/sqlite/sqlite-file.js';

type Database = BetterSqlite3.Database;

/** 'VMW1': marks the file as a Remembrancer witness database, distinct from the log database. */
export const WITNESS_APPLICATION_ID = 0x564d5731;

/**
 * Forward-only migrations; migration i brings user_version from i to i+1. Never edit a released
 * entry: append a new one.
 *
 * `witness_checkpoints` is the state https://c2sp.org/tlog-witness requires (the latest cosigned
 * checkpoint per origin); `note` is what the monitoring endpoint serves: the checkpoint text, the
 * log signatures that verified, and our cosignature. `witness_conflicts` keeps validly signed
 * checkpoints that failed a consistency check, which the spec allows logging "as it might be proof
 * of log misbehavior".
 */
export const WITNESS_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE witness_checkpoints (
    origin      TEXT PRIMARY KEY,
    origin_hash TEXT NOT NULL UNIQUE,
    size        INTEGER NOT NULL CHECK (size >= 0),
    root        BLOB NOT NULL CHECK (length(root) = 32),
    note        TEXT NOT NULL,
    cosigned_at INTEGER NOT NULL CHECK (cosigned_at > 0),
    updated_at  TEXT NOT NULL
  );
  CREATE TABLE witness_conflicts (
    id           INTEGER PRIMARY KEY,
    origin       TEXT NOT NULL,
    reason       TEXT NOT NULL,
    stored_note  TEXT NOT NULL,
    offered_note TEXT NOT NULL,
    old_size     INTEGER NOT NULL,
    proof        BLOB NOT NULL,
    observed_at  TEXT NOT NULL,
    UNIQUE (origin, offered_note)
  );
  `,
];

export const WITNESS_SCHEMA_VERSION = WITNESS_MIGRATIONS.length;

/** Brings the file to the current schema; see migrateDatabase for the checks and the locking. */
export function migrateWitnessDb(db: Database): void {
  migrateDatabase(db, { applicationId: WITNESS_APPLICATION_ID, migrations: WITNESS_MIGRATIONS, what: 'witness' });
}
