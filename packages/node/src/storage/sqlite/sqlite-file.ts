import { closeSync, fchmodSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import { storageFailure } from '../storage-failure.js';

export { storageFailure } from '../storage-failure.js';

/** Mode of every database file; SQLite gives its -wal and -shm files the database file's mode. */
export const DATABASE_FILE_MODE = 0o600;

/**
 * Creates the database file, empty (SQLite takes an empty file as a new database), with mode 0600
 * whatever the process umask, unless it exists; an existing file keeps its mode (a node's start
 * checks those, see daemon/data-dir-permissions.ts). SQLite creates the -wal and -shm files with
 * the database file's mode (os_unix.c findCreateFileMode), so they are 0600 too. Entries of private
 * namespaces are in these files: other local users must not read them.
 */
export function createPrivateDatabaseFile(path: string): void {
  if (path === ':memory:' || path === '') return;
  let fd: number;
  try {
    fd = openSync(path, 'wx', DATABASE_FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw e;
  }
  try {
    fchmodSync(fd, DATABASE_FILE_MODE);
  } finally {
    closeSync(fd);
  }
}

/**
 * Opens (creating it, mode 0600, and its directory, mode 0700, if missing) a SQLite file whose every commit
 * survives power loss: WAL journal, synchronous FULL, which fsyncs the WAL at each commit
 * (https://www.sqlite.org/pragma.html#pragma_synchronous). `what` names the database in errors
 * ("cannot open witness database …"). ':memory:' is accepted for throwaway stores; it has no WAL.
 */
export function openDurableDatabase(path: string, what: string, busyTimeoutMs = 5000): Database.Database {
  let db: Database.Database;
  try {
    if (path !== ':memory:') {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      createPrivateDatabaseFile(path);
    }
    db = new Database(path, { timeout: busyTimeoutMs });
  } catch (cause) {
    throw storageFailure(`cannot open ${what} database ${path}`, cause);
  }
  try {
    const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
    if (path !== ':memory:' && mode.toLowerCase() !== 'wal') {
      throw new RemembrancerError('STORAGE_FAILURE', `cannot enable WAL journal (got ${mode})`);
    }
    db.pragma('synchronous = FULL');
  } catch (cause) {
    db.close();
    throw storageFailure(`cannot initialise ${what} database ${path}`, cause);
  }
  return db;
}

/** What makes a file one of our databases, and how it reaches the current version. */
export interface DatabaseSchema {
  /** Marks the file as ours (https://www.sqlite.org/pragma.html#pragma_application_id). */
  readonly applicationId: number;
  /**
   * Forward-only; migration i brings user_version from i to i+1. Never edit a released entry:
   * append a new one.
   */
  readonly migrations: readonly string[];
  /** Names the database in errors: 'log', 'witness', 'cadence'. */
  readonly what: string;
}

/**
 * Brings the file to the current version, refusing foreign files (tables but no mark, or another
 * mark) and files of a newer build. Each migration commits in its own IMMEDIATE transaction that
 * first re-reads the version under the write lock: two processes opening a fresh file at once do
 * not both migrate it, and a failing migration keeps the ones before it (a long back-fill of a
 * large log database is not redone). A file already current is checked without taking the lock.
 */
export function migrateDatabase(db: Database.Database, schema: DatabaseSchema): void {
  const { applicationId, migrations, what } = schema;
  const current = migrations.length;
  const mark = (): { appId: number; version: number } => ({
    appId: db.pragma('application_id', { simple: true }) as number,
    version: db.pragma('user_version', { simple: true }) as number,
  });
  const seen = mark();
  if (seen.appId === applicationId && seen.version === current) return;

  // One step; false once the file is current.
  const step = db.transaction((): boolean => {
    const { appId, version } = mark();
    if (version === 0 && appId === 0) {
      const tables = db.prepare(`SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'`).get() as { n: number };
      if (tables.n !== 0) {
        throw new RemembrancerError(
          'STORAGE_FAILURE',
          `database file holds foreign tables; refusing to use it as a ${what} database`,
        );
      }
    } else if (appId !== applicationId) {
      throw new RemembrancerError('STORAGE_FAILURE', `not a Remembrancer ${what} database (application_id ${appId})`);
    }
    if (version > current) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${what} database schema version ${version} is newer than this build understands (${current}); upgrade the node`,
      );
    }
    if (version < 0)
      throw new RemembrancerError('STORAGE_FAILURE', `${what} database has a negative schema version ${version}`);
    if (version === current) return false;
    db.exec(migrations[version]!);
    db.pragma(`application_id = ${applicationId}`);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  // Each step raises user_version by one, so this ends after at most `current` steps.
  while (step.immediate()) {
    // next migration
  }
}
