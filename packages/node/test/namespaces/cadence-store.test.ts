import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CADENCE_DB_FILE, CadenceStore } from '../../src/namespaces/cadence-store.js';
import { CADENCE_APPLICATION_ID, CADENCE_SCHEMA_VERSION } from '../../src/namespaces/cadence-schema.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vm-cadence-store-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// What only the SQLite cadence file does; rows, order, transactions, reopen and close are in
// cadence-storage-conformance.test.ts on both backends.
test('CadenceStore creates its directory and a marked, versioned WAL file', () => {
  withDir((dir) => {
    const path = join(dir, 'sub', CADENCE_DB_FILE);
    new CadenceStore(path).close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('application_id', { simple: true }), CADENCE_APPLICATION_ID);
    assert.equal(db.pragma('user_version', { simple: true }), CADENCE_SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });
});

test('CadenceStore refuses foreign and newer database files', () => {
  withDir((dir) => {
    const foreign = join(dir, 'foreign.sqlite');
    let db = new Database(foreign);
    db.exec('CREATE TABLE t (x)');
    db.close();
    assert.throws(() => new CadenceStore({ path: foreign }), { code: 'STORAGE_FAILURE' });

    const other = join(dir, 'other.sqlite');
    db = new Database(other);
    db.pragma('application_id = 1');
    db.close();
    assert.throws(() => new CadenceStore({ path: other }), { code: 'STORAGE_FAILURE' });

    const newer = join(dir, CADENCE_DB_FILE);
    new CadenceStore({ path: newer }).close();
    db = new Database(newer);
    db.pragma(`user_version = ${CADENCE_SCHEMA_VERSION + 1}`);
    db.close();
    assert.throws(() => new CadenceStore({ path: newer }), /newer than this build/);
  });
});
