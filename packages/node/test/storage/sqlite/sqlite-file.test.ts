import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import {
  migrateDatabase,
  openDurableDatabase,
  storageFailure,
  type DatabaseSchema,
} from '../../../src/storage/sqlite/sqlite-file.js';

const root = mkdtempSync(join(tmpdir(), 'vm-sqlite-file-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'nested', 'x.sqlite');

const SCHEMA: DatabaseSchema = {
  applicationId: 0x564d5439,
  migrations: ['CREATE TABLE a (x INTEGER)', 'CREATE TABLE b (y INTEGER)', 'ALTER TABLE a ADD COLUMN z TEXT'],
  what: 'test',
};

function mark(db: Database.Database): { appId: unknown; version: unknown } {
  return { appId: db.pragma('application_id', { simple: true }), version: db.pragma('user_version', { simple: true }) };
}

function tables(db: Database.Database): unknown[] {
  return db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
}

const storageError = (pattern: RegExp) => (e: unknown) =>
  isRemembrancerError(e, 'STORAGE_FAILURE') && pattern.test(e.message);

describe('storageFailure', () => {
  test('wraps a foreign error with context and passes a RemembrancerError through', () => {
    const wrapped = storageFailure('cannot do it', new Error('disk full'));
    assert.equal(wrapped.code, 'STORAGE_FAILURE');
    assert.equal(wrapped.message, 'cannot do it: disk full');
    assert.equal(storageFailure('cannot do it', 'plain').message, 'cannot do it: plain');
    const own = new RemembrancerError('SHUTTING_DOWN', 'closed');
    assert.equal(storageFailure('cannot do it', own), own);
  });
});

describe('openDurableDatabase', () => {
  test('creates the directory (0700) and opens with WAL, synchronous FULL and the busy timeout', () => {
    const path = freshPath();
    const db = openDurableDatabase(path, 'test', 1234);
    try {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('synchronous', { simple: true }), 2); // FULL
      assert.equal(db.pragma('busy_timeout', { simple: true }), 1234);
      if (process.platform !== 'win32') assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
    } finally {
      db.close();
    }
  });

  test('accepts :memory: (which has no WAL)', () => {
    const db = openDurableDatabase(':memory:', 'test');
    assert.equal(db.pragma('busy_timeout', { simple: true }), 5000);
    db.close();
  });

  test('names the database in the error when the file cannot be opened', () => {
    const blocker = join(root, `blocker-${++counter}`);
    writeFileSync(blocker, 'not a directory');
    const path = join(blocker, 'x.sqlite');
    assert.throws(
      () => openDurableDatabase(path, 'cadence'),
      storageError(new RegExp(`^cannot open cadence database ${path}: `)),
    );
  });
});

describe('migrateDatabase', () => {
  test('brings a fresh file to the current version, marked, and is idempotent', () => {
    const path = freshPath();
    let db = openDurableDatabase(path, 'test');
    migrateDatabase(db, SCHEMA);
    assert.deepEqual(mark(db), { appId: SCHEMA.applicationId, version: 3 });
    assert.deepEqual(tables(db), ['a', 'b']);
    db.close();
    db = openDurableDatabase(path, 'test');
    migrateDatabase(db, SCHEMA);
    assert.deepEqual(mark(db), { appId: SCHEMA.applicationId, version: 3 });
    db.close();
  });

  test('continues from the version a file is at', () => {
    const db = openDurableDatabase(freshPath(), 'test');
    migrateDatabase(db, { ...SCHEMA, migrations: SCHEMA.migrations.slice(0, 1) });
    assert.deepEqual(mark(db), { appId: SCHEMA.applicationId, version: 1 });
    db.prepare('INSERT INTO a (x) VALUES (7)').run();
    migrateDatabase(db, SCHEMA);
    assert.deepEqual(mark(db), { appId: SCHEMA.applicationId, version: 3 });
    assert.deepEqual(db.prepare('SELECT x, z FROM a').all(), [{ x: 7, z: null }]);
    db.close();
  });

  test('a failing migration keeps the ones before it and leaves no part of itself', () => {
    const db = openDurableDatabase(freshPath(), 'test');
    const broken = {
      ...SCHEMA,
      migrations: [SCHEMA.migrations[0]!, 'CREATE TABLE c (w INTEGER); CREATE TABLE a (x INTEGER)'],
    };
    assert.throws(() => migrateDatabase(db, broken), /already exists/);
    assert.deepEqual(mark(db), { appId: SCHEMA.applicationId, version: 1 });
    assert.deepEqual(tables(db), ['a']);
    db.close();
  });

  test('a current file is checked without taking the write lock', () => {
    const path = freshPath();
    const db = openDurableDatabase(path, 'test');
    migrateDatabase(db, SCHEMA);
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      const reader = new Database(path, { timeout: 0 });
      try {
        migrateDatabase(reader, SCHEMA);
        // Work to do needs the lock, and a busy file fails instead of migrating unlocked.
        assert.throws(
          () =>
            migrateDatabase(reader, { ...SCHEMA, migrations: [...SCHEMA.migrations, 'CREATE TABLE d (v INTEGER)'] }),
          /locked|busy/i,
        );
      } finally {
        reader.close();
      }
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
      db.close();
    }
  });

  test('refuses foreign tables, another mark, a newer and a negative version, naming the database', () => {
    const foreign = new Database(':memory:');
    foreign.exec('CREATE TABLE theirs (q INTEGER)');
    assert.throws(
      () => migrateDatabase(foreign, SCHEMA),
      storageError(/^database file holds foreign tables; refusing to use it as a test database$/),
    );
    foreign.close();

    const other = new Database(':memory:');
    other.pragma('application_id = 1');
    assert.throws(
      () => migrateDatabase(other, SCHEMA),
      storageError(/^not a Remembrancer test database \(application_id 1\)$/),
    );
    other.close();

    const newer = new Database(':memory:');
    newer.pragma(`application_id = ${SCHEMA.applicationId}`);
    newer.pragma('user_version = 4');
    assert.throws(
      () => migrateDatabase(newer, SCHEMA),
      storageError(/^test database schema version 4 is newer than this build understands \(3\); upgrade the node$/),
    );
    newer.close();

    const negative = new Database(':memory:');
    negative.pragma(`application_id = ${SCHEMA.applicationId}`);
    negative.pragma('user_version = -1');
    assert.throws(() => migrateDatabase(negative, SCHEMA), storageError(/negative schema version -1/));
    negative.close();
  });
});
