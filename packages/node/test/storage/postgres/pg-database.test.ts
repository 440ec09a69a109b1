import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { PgDatabase, migratePostgres, postgresSchemaVersion, redactUrl } from '../../../src/storage/postgres/index.js';
import { startTestPostgres, type TestPostgres } from './test-databases.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

async function open(url: string): Promise<PgDatabase> {
  return PgDatabase.open({ url, what: 'test', maxConnections: 4 });
}

function code(e: unknown): string | undefined {
  return isRemembrancerError(e) ? e.code : undefined;
}

test('bytes, bigints and text round-trip; a failing statement is STORAGE_FAILURE naming the database', async () => {
  const db = await open(await pg.freshDatabase());
  try {
    await db.run('CREATE TABLE t (id BIGINT PRIMARY KEY, body BYTEA NOT NULL, note TEXT NOT NULL)');
    const body = new Uint8Array([0, 1, 2, 255]);
    assert.equal(await db.run('INSERT INTO t VALUES ($1, $2, $3)', [2 ** 40, body, 'é']), 1);
    const r = await db.row<{ id: number; body: Uint8Array; note: string }>('SELECT id, body, note FROM t');
    assert.equal(r?.id, 2 ** 40, 'BIGINT arrives as a number');
    assert.deepEqual(new Uint8Array(r!.body), body);
    assert.equal(r?.note, 'é');
    await assert.rejects(db.row('SELECT $1::bigint AS n', [String(2n ** 60n)]), (e) => {
      assert.equal(code(e), 'STORAGE_FAILURE', 'a bigint past 2^53 is refused, not rounded');
      return true;
    });
    await assert.rejects(db.run('INSERT INTO t VALUES ($1, $2, $3)', [2 ** 40, body, 'dup']), (e) => {
      assert.equal(code(e), 'STORAGE_FAILURE');
      assert.match((e as Error).message, /^test database statement failed: .*duplicate key/);
      return true;
    });
  } finally {
    await db.close();
  }
});

test('a transaction commits as a whole or not at all; a typed error inside passes through unchanged, others are STORAGE_FAILURE', async () => {
  const db = await open(await pg.freshDatabase());
  try {
    await db.run('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await db.transaction(async (tx) => {
      await tx.run('INSERT INTO t VALUES (1)');
      await tx.run('INSERT INTO t VALUES (2)');
    });
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t VALUES (3)');
        await tx.run('INSERT INTO t VALUES (1)');
      }),
      (e) => code(e) === 'STORAGE_FAILURE',
    );
    const mine = new RemembrancerError('NAMESPACE_EXISTS', 'decided to abort');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.run('INSERT INTO t VALUES (4)');
        throw mine;
      }),
      (e) => e === mine,
    );
    await assert.rejects(
      db.transaction(async () => {
        throw new Error('untyped');
      }),
      (e) => code(e) === 'STORAGE_FAILURE' && /^test transaction failed: untyped$/.test((e as Error).message),
    );
    assert.deepEqual(await db.rows('SELECT id FROM t ORDER BY id'), [{ id: 1 }, { id: 2 }], 'nothing of 3 or 4 stays');
    // The pool is healthy after rollbacks: every connection can still be used.
    await Promise.all(Array.from({ length: 8 }, () => db.row('SELECT 1 AS one')));
  } finally {
    await db.close();
  }
});

test('transactions with the same lock name run one at a time, across connections (a read-check-write stays exact)', async () => {
  const url = await pg.freshDatabase();
  const a = await open(url);
  const b = await open(url);
  try {
    await a.run('CREATE TABLE counter (n INTEGER NOT NULL)');
    await a.run('INSERT INTO counter VALUES (0)');
    // Read, wait, write back +1: without the lock, concurrent increments would be lost.
    const bump = (db: PgDatabase) =>
      db.transaction(
        async (tx) => {
          const r = await tx.row<{ n: number }>('SELECT n FROM counter');
          await new Promise((res) => setTimeout(res, 5));
          await tx.run('UPDATE counter SET n = $1', [r!.n + 1]);
        },
        { lock: 'counter' },
      );
    await Promise.all(Array.from({ length: 10 }, (_, i) => bump(i % 2 === 0 ? a : b)));
    assert.deepEqual(await a.row('SELECT n FROM counter'), { n: 10 });
  } finally {
    await a.close();
    await b.close();
  }
});

test('after close every call is SHUTTING_DOWN; close is idempotent', async () => {
  const db = await open(await pg.freshDatabase());
  await db.close();
  await db.close();
  await assert.rejects(db.row('SELECT 1'), (e) => code(e) === 'SHUTTING_DOWN');
  await assert.rejects(
    db.transaction(async () => undefined),
    (e) => code(e) === 'SHUTTING_DOWN',
  );
});

test('an unreachable server fails at open with STORAGE_FAILURE, and the URL in the message has no password', async () => {
  const url = 'postgresql://someone:secret@localhost/db?host=/nonexistent-socket-dir&port=1';
  await assert.rejects(PgDatabase.open({ url, what: 'log', connectTimeoutMs: 2000 }), (e) => {
    assert.equal(code(e), 'STORAGE_FAILURE');
    assert.match((e as Error).message, /^cannot connect to the log database at /);
    assert.doesNotMatch((e as Error).message, /secret/);
    return true;
  });
  assert.doesNotMatch(redactUrl(url), /secret/);
});

const SCHEMA = {
  store: 'sample',
  migrations: ['CREATE TABLE sample_items (id INTEGER PRIMARY KEY)', 'ALTER TABLE sample_items ADD COLUMN label TEXT'],
};

test('migrations: versioned per store, applied once even by front ends starting together, kept on a later failure', async () => {
  const url = await pg.freshDatabase();
  const dbs = await Promise.all([open(url), open(url), open(url)]);
  try {
    assert.equal(await postgresSchemaVersion(dbs[0]!, 'sample'), 0);
    await Promise.all(dbs.map((db) => migratePostgres(db, SCHEMA)));
    assert.equal(await postgresSchemaVersion(dbs[0]!, 'sample'), 2);
    await dbs[0]!.run(`INSERT INTO sample_items (id, label) VALUES (1, 'x')`);
    // Another store's version row is its own.
    await migratePostgres(dbs[1]!, { store: 'other', migrations: ['CREATE TABLE other_items (id INTEGER)'] });
    assert.equal(await postgresSchemaVersion(dbs[1]!, 'other'), 1);
    assert.equal(await postgresSchemaVersion(dbs[1]!, 'sample'), 2);

    // A broken third migration fails the open and leaves versions 1 and 2 in place.
    const broken = {
      store: 'sample',
      migrations: [...SCHEMA.migrations, 'ALTER TABLE no_such_table ADD COLUMN z INT'],
    };
    await assert.rejects(migratePostgres(dbs[2]!, broken), (e) => code(e) === 'STORAGE_FAILURE');
    assert.equal(await postgresSchemaVersion(dbs[2]!, 'sample'), 2);
    assert.deepEqual(await dbs[2]!.rows('SELECT id, label FROM sample_items'), [{ id: 1, label: 'x' }]);
  } finally {
    await Promise.all(dbs.map((db) => db.close()));
  }
});

test('migrations: a database of a newer build is refused, not downgraded', async () => {
  const db = await open(await pg.freshDatabase());
  try {
    await migratePostgres(db, SCHEMA);
    await assert.rejects(migratePostgres(db, { store: 'sample', migrations: SCHEMA.migrations.slice(0, 1) }), (e) => {
      assert.equal(code(e), 'STORAGE_FAILURE');
      assert.match((e as Error).message, /newer than this build understands \(1\); upgrade the node/);
      return true;
    });
    assert.equal(await postgresSchemaVersion(db, 'sample'), 2);
  } finally {
    await db.close();
  }
});
