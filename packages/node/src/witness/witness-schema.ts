import type BetterSqlite3 from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';

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

/**
 * Brings the file to the current schema. Everything, including reading the version, runs in one
 * IMMEDIATE transaction: two processes opening a fresh file at once must not both migrate it.
 */
export function migrateWitnessDb(db: Database): void {
  db.transaction(() => {
    const appId = db.pragma('application_id', { simple: true }) as number;
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version === 0 && appId === 0) {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'`).get() as { n: number };
      if (tables.n !== 0) {
        throw new RemembrancerError('STORAGE_FAILURE', 'database file holds foreign tables; refusing to use it as a witness database');
      }
    } else if (appId !== WITNESS_APPLICATION_ID) {
      throw new RemembrancerError('STORAGE_FAILURE', `not a Remembrancer witness database (application_id ${appId})`);
    }
    if (version > WITNESS_SCHEMA_VERSION) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `witness database schema version ${version} is newer than this build understands (${WITNESS_SCHEMA_VERSION}); upgrade the node`,
      );
    }
    for (let v = version; v < WITNESS_SCHEMA_VERSION; v++) db.exec(WITNESS_MIGRATIONS[v]!);
    if (version < WITNESS_SCHEMA_VERSION) {
      db.pragma(`application_id = ${WITNESS_APPLICATION_ID}`);
      db.pragma(`user_version = ${WITNESS_SCHEMA_VERSION}`);
    }
  }).immediate();
}
