import type BetterSqlite3 from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';

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

/**
 * Brings the file to the current schema. Everything, including reading the version, runs in one
 * IMMEDIATE transaction: two processes opening a fresh file at once must not both migrate it.
 */
export function migrateCadenceDb(db: Database): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0 && appId === 0) {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'`).get() as { n: number };
      if (tables.n !== 0) {
        throw new RemembrancerError('STORAGE_FAILURE', 'database file holds foreign tables; refusing to use it as a cadence database');
      }
    } else if (appId !== CADENCE_APPLICATION_ID) {
      throw new RemembrancerError('STORAGE_FAILURE', `not a Remembrancer cadence database (application_id ${appId})`);
    }
    if (version > CADENCE_SCHEMA_VERSION) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `cadence database schema version ${version} is newer than this build understands (${CADENCE_SCHEMA_VERSION}); upgrade the node`,
      );
    }
    for (let v = version; v < CADENCE_SCHEMA_VERSION; v++) db.exec(CADENCE_MIGRATIONS[v]!);
    if (version < CADENCE_SCHEMA_VERSION) {
      db.pragma(`application_id = ${CADENCE_APPLICATION_ID}`);
      db.pragma(`user_version = ${CADENCE_SCHEMA_VERSION}`);
    }
  }).immediate();
}
