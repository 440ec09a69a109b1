import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from '../storage/sqlite/sqlite-file.js';

type Database = BetterSqlite3.Database;

/** 'VMC1': marks the file as a Remembrancer cadence database, distinct from the log and witness ones. */
export const CADENCE_APPLICATION_ID = 0x564d4331;

/**
 * Forward-only migrations; migration i brings user_version from i to i+1. Never edit a released
 * entry: append a new one.
 *
 * `cadence_levels` holds one schedule per (namespace, level): the level as configured, its
 * resolved period, the schedule's origin (`anchor_ms`: due times are anchor + k·period) and its
 * progress. `cadence_namespaces` remembers the effective time of the cadence last applied, so a
 * start-up replay of older governance entries cannot roll a schedule back.
 */
export const CADENCE_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE cadence_levels (
    namespace     TEXT NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('fast', 'strong', 'cold')),
    target        TEXT NOT NULL,
    every         TEXT NOT NULL,
    period_ms     INTEGER NOT NULL CHECK (period_ms > 0),
    confirmations INTEGER NOT NULL CHECK (confirmations >= 0),
    anchor_ms     INTEGER NOT NULL,
    next_due_ms   INTEGER NOT NULL,
    last_due_ms   INTEGER,
    due_count     INTEGER NOT NULL CHECK (due_count >= 0),
    PRIMARY KEY (namespace, level)
  ) WITHOUT ROWID;
  CREATE INDEX cadence_levels_next_due ON cadence_levels (next_due_ms);
  CREATE TABLE cadence_namespaces (
    namespace       TEXT PRIMARY KEY,
    effective_at_ms INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const CADENCE_SCHEMA_VERSION = CADENCE_MIGRATIONS.length;

/** Brings the file to the current schema; see migrateDatabase for the checks and the locking. */
export function migrateCadenceDb(db: Database): void {
  migrateDatabase(db, { applicationId: CADENCE_APPLICATION_ID, migrations: CADENCE_MIGRATIONS, what: 'cadence' });
}
