import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { isRemembrancerError } from '@vaultmesh/core';
import { SCHEMA_VERSION, SqliteLogStorage } from '../../src/storage/index.js';
import { APPLICATION_ID, MIGRATIONS } from '../../src/storage/sqlite/schema.js';
import { hash } from './log-storage-fixtures.js';

const root = mkdtempSync(join(tmpdir(), 'vm-storage-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'log.sqlite');

/**
 * What only the SQLite log storage does: its file, pragmas and migrations. What every backend does
 * (namespaces, commits, checkpoints, leaf runs, failures, close) is in log-storage-conformance.test.ts.
 */
describe('SqliteLogStorage', () => {
  test('creates the schema with WAL, FULL sync and a versioned, marked file', async () => {
    const path = freshPath();
    const s = new SqliteLogStorage({ path });
    await s.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), 0x564d5231);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
    assert.deepEqual(tables, ['checkpoints', 'entries', 'leaf_runs', 'namespaces', 'tiles', 'tree_state']);
    db.close();
  });

  test('refuses foreign databases and newer schema versions', async () => {
    const foreign = freshPath();
    await new SqliteLogStorage({ path: foreign }).close();
    const db = new Database(foreign);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(
      () => new SqliteLogStorage({ path: foreign }),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /newer/.test(e.message),
    );

    const other = freshPath();
    await new SqliteLogStorage({ path: other }).close();
    const db2 = new Database(join(other, '..', 'x.sqlite'));
    db2.exec('CREATE TABLE t (x)');
    db2.close();
    assert.throws(
      () => new SqliteLogStorage({ path: join(other, '..', 'x.sqlite') }),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
  });

  test('opens with synchronous NORMAL when asked; rejects an unknown synchronous mode', async () => {
    const s = new SqliteLogStorage({ path: freshPath(), synchronous: 'NORMAL' });
    assert.equal((await s.loadNamespaces()).length, 0);
    await s.close();
    assert.throws(
      () => new SqliteLogStorage({ path: freshPath(), synchronous: 'OFF' as 'FULL' }),
      (e) => isRemembrancerError(e, 'CONFIG_INVALID'),
    );
  });

  test('migration 2 back-fills the entry byte totals of a version-1 database', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec(MIGRATIONS[0]!);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 1');
    const insertNs = db.prepare(
      `INSERT INTO namespaces (id, origin, log_vkey, created_at, policy) VALUES (?, 'o', 'v', 't', '{}')`,
    );
    const a = Number(insertNs.run('dao:a').lastInsertRowid);
    const b = Number(insertNs.run('dao:b').lastInsertRowid);
    const insertEntry = db.prepare('INSERT INTO entries (ns, idx, data) VALUES (?, ?, ?)');
    for (let i = 0; i < 5; i++) insertEntry.run(a, i, new Uint8Array(10 + i));
    db.prepare('INSERT INTO tree_state (ns, size, compact_range) VALUES (?, ?, ?)').run(a, 5, new Uint8Array(64));
    db.prepare('INSERT INTO tree_state (ns, size, compact_range) VALUES (?, 0, ?)').run(b, new Uint8Array(0));
    db.close();

    const s = new SqliteLogStorage({ path });
    assert.equal(await s.entryBytes(a), 10 + 11 + 12 + 13 + 14);
    assert.equal(await s.entryBytes(b), 0);
    assert.equal((await s.loadTreeState(a)).size, 5);
    await s.commitBatch([
      {
        namespace: b,
        previousSize: 0,
        entries: [new Uint8Array(7)],
        tiles: [],
        tree: { size: 1, compactRange: [hash(1)] },
      },
    ]);
    assert.equal(await s.entryBytes(b), 7);
    await s.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });
});
