import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { GuardedConnection } from '../../../src/storage/sqlite/guarded-connection.js';

function fresh(): { db: Database.Database; conn: GuardedConnection } {
  const db = new Database(':memory:');
  db.exec('CREATE TABLE t (x INTEGER UNIQUE)');
  return { db, conn: new GuardedConnection(db, 'test') };
}

test('read and run return what fn returns, and wrap driver errors with their context', () => {
  const { db, conn } = fresh();
  conn.run('test write failed', () => db.prepare('INSERT INTO t (x) VALUES (1)').run());
  assert.deepEqual(
    conn.read(() => db.prepare('SELECT x FROM t').pluck().all()),
    [1],
  );
  assert.throws(
    () => conn.run('test write failed', () => db.prepare('INSERT INTO t (x) VALUES (1)').run()),
    (e) =>
      isRemembrancerError(e, 'STORAGE_FAILURE') &&
      /^test write failed: UNIQUE constraint failed/.test(e.message) &&
      e.cause !== undefined,
  );
  assert.throws(
    () => conn.read(() => db.prepare('SELECT nope FROM t').all()),
    (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /^test database read failed: /.test(e.message),
  );
  const own = new RemembrancerError('NOT_FOUND', 'no such row');
  assert.throws(
    () =>
      conn.read(() => {
        throw own;
      }),
    (e) => e === own,
  );
  conn.close();
});

test('atomically commits fn, or rolls all of it back and wraps the failure', () => {
  const { db, conn } = fresh();
  const insert = db.prepare('INSERT INTO t (x) VALUES (?)');
  assert.equal(
    conn.atomically(() => insert.run(1).changes + insert.run(2).changes),
    2,
  );
  assert.throws(
    () =>
      conn.atomically(() => {
        insert.run(3);
        insert.run(1);
      }),
    (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /^test transaction failed: /.test(e.message),
  );
  assert.deepEqual(db.prepare('SELECT x FROM t ORDER BY x').pluck().all(), [1, 2]);
  conn.close();
});

test('after close every use is SHUTTING_DOWN, and close is idempotent', () => {
  const { db, conn } = fresh();
  conn.close();
  conn.close();
  assert.equal(db.open, false);
  const closed = (e: unknown) => isRemembrancerError(e, 'SHUTTING_DOWN') && e.message === 'test database is closed';
  assert.throws(() => conn.read(() => 1), closed);
  assert.throws(() => conn.run('x', () => 1), closed);
  assert.throws(() => conn.atomically(() => 1), closed);
  assert.throws(() => conn.assertOpen(), closed);
});
