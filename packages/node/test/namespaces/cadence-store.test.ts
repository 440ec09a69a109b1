import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CADENCE_DB_FILE, CadenceStore, type CadenceRow } from '../../src/namespaces/cadence-store.js';
import { CADENCE_APPLICATION_ID, CADENCE_SCHEMA_VERSION } from '../../src/namespaces/cadence-schema.js';

function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vm-cadence-store-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const row = (over: Partial<CadenceRow> = {}): CadenceRow => ({
  namespace: 'dao:vaultmesh',
  level: 'fast',
  target: 'rfc3161:freetsa',
  every: '5m',
  periodMs: 300_000,
  confirmations: 0,
  anchorMs: 1_000,
  nextDueMs: 301_000,
  lastDueMs: null,
  dueCount: 0,
  ...over,
});

test('CadenceStore persists rows, orders levels, finds due rows, and survives reopen', () => {
  withDir((dir) => {
    const path = join(dir, 'sub', CADENCE_DB_FILE);
    let s = new CadenceStore(path);
    s.atomically(() => {
      s.put(
        row({
          level: 'cold',
          target: 'btc:mainnet',
          every: '1d',
          periodMs: 86_400_000,
          confirmations: 6,
          nextDueMs: 86_401_000,
        }),
      );
      s.put(row());
      s.put(row({ namespace: 'fin:clearing', nextDueMs: 50 }));
      s.setAppliedAt('dao:vaultmesh', 1_000);
    });
    assert.deepEqual(
      s.levels('dao:vaultmesh').map((r) => r.level),
      ['fast', 'cold'],
    );
    assert.deepEqual(
      s.due(301_000).map((r) => [r.namespace, r.level]),
      [
        ['fin:clearing', 'fast'],
        ['dao:vaultmesh', 'fast'],
      ],
    );
    assert.deepEqual(s.due(49), []);
    s.put(row({ nextDueMs: 601_000, lastDueMs: 301_000, dueCount: 1 }));
    s.close();
    s.close();
    assert.throws(() => s.levels('dao:vaultmesh'), { code: 'SHUTTING_DOWN' });

    s = new CadenceStore({ path });
    assert.deepEqual(s.levels('dao:vaultmesh')[0], row({ nextDueMs: 601_000, lastDueMs: 301_000, dueCount: 1 }));
    assert.equal(s.appliedAt('dao:vaultmesh'), 1_000);
    assert.equal(s.appliedAt('fin:clearing'), undefined);
    assert.deepEqual(s.namespaces(), ['dao:vaultmesh']);
    s.remove('dao:vaultmesh', 'cold');
    assert.deepEqual(
      s.levels('dao:vaultmesh').map((r) => r.level),
      ['fast'],
    );
    s.close();

    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('application_id', { simple: true }), CADENCE_APPLICATION_ID);
    assert.equal(db.pragma('user_version', { simple: true }), CADENCE_SCHEMA_VERSION);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    db.close();
  });
});

test('CadenceStore rolls back a failed transaction', () => {
  withDir((dir) => {
    const s = new CadenceStore({ path: join(dir, CADENCE_DB_FILE) });
    assert.throws(
      () =>
        s.atomically(() => {
          s.put(row());
          throw new Error('boom');
        }),
      { code: 'STORAGE_FAILURE' },
    );
    assert.deepEqual(s.levels('dao:vaultmesh'), []);
    s.close();
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
