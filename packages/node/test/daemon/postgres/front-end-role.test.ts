import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FrontEndRole, type SingletonWork } from '../../../src/daemon/front-end-role.js';
import { PgDatabase, SequencingLease } from '../../../src/storage/postgres/index.js';
import { startTestPostgres, type TestPostgres } from '../../storage/postgres/test-databases.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

async function until(what: string, ok: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Work that records what happens to it. */
function recorder(log: string[], fe: string): SingletonWork[] {
  return ['engine', 'cosigner'].map((name) => ({
    name,
    start: () => void log.push(`${fe} start ${name}`),
    stop: (graceful: boolean) => void log.push(`${fe} stop ${name}${graceful ? ' (graceful)' : ''}`),
  }));
}

test('one front end leads; a clean stop hands the lease over at once; the work starts in order and stops in reverse', async () => {
  const url = await pg.freshDatabase();
  const dbs = await Promise.all([0, 1].map(() => PgDatabase.open({ url, what: 'role test' })));
  const log: string[] = [];
  const [la, lb] = await Promise.all(dbs.map((db, i) => SequencingLease.open({ db, holder: `fe${i}`, ttlMs: 60_000 })));
  const a = new FrontEndRole(la, recorder(log, 'a'), undefined);
  const b = new FrontEndRole(lb, recorder(log, 'b'), undefined);
  try {
    await a.start();
    await b.start();
    assert.equal(a.leading, true);
    assert.equal(b.leading, false);
    assert.deepEqual(log, ['a start engine', 'a start cosigner']);
    await a.stop();
    assert.deepEqual(log.slice(2), ['a stop cosigner (graceful)', 'a stop engine (graceful)']);
    // No 60 s expiry to wait for: the next renewal attempt of b (every 15 s here) — ask now.
    await until('b to lead', () => b.leading, 20_000);
    assert.deepEqual(log.slice(4), ['b start engine', 'b start cosigner']);
  } finally {
    await a.stop();
    await b.stop();
    for (const db of dbs) await db.close();
  }
});

test('a front end cut off from the database stops its work by its grant deadline, and another takes over', async () => {
  const url = await pg.freshDatabase();
  const dbA = await PgDatabase.open({ url, what: 'role a', statementTimeoutMs: 1_000, connectTimeoutMs: 500 });
  const dbB = await PgDatabase.open({ url, what: 'role b' });
  const log: string[] = [];
  const a = new FrontEndRole(
    await SequencingLease.open({ db: dbA, holder: 'a', ttlMs: 600 }),
    recorder(log, 'a'),
    undefined,
  );
  const b = new FrontEndRole(
    await SequencingLease.open({ db: dbB, holder: 'b', ttlMs: 600 }),
    recorder(log, 'b'),
    undefined,
  );
  try {
    await a.start();
    await b.start();
    assert.equal(a.leading, true);
    // a loses the database (its pool is gone, as in a partition): every renewal fails from now on.
    await dbA.close();
    const cutAt = Date.now();
    await until('a to stop leading', () => !a.leading);
    assert.ok(log.includes('a stop engine'), 'stopped, not gracefully: the lease is lost');
    await until('b to lead', () => b.leading);
    assert.ok(Date.now() - cutAt < 5_000, 'within the lease length and a renewal period');
  } finally {
    await a.stop();
    await b.stop();
    await dbB.close();
  }
});

test('without a lease (SQLite) the only front end leads from start to stop', async () => {
  const log: string[] = [];
  const role = new FrontEndRole(undefined, recorder(log, 'solo'), undefined);
  await role.start();
  assert.equal(role.leading, true);
  await role.stop();
  assert.deepEqual(log, [
    'solo start engine',
    'solo start cosigner',
    'solo stop cosigner (graceful)',
    'solo stop engine (graceful)',
  ]);
});

test('work that fails to start: what started stops as on a loss, the lease is given up and another front end takes it', async () => {
  const url = await pg.freshDatabase();
  const dbs = await Promise.all([0, 1].map(() => PgDatabase.open({ url, what: 'role test' })));
  const log: string[] = [];
  const [la, lb] = await Promise.all(dbs.map((db, i) => SequencingLease.open({ db, holder: `fe${i}`, ttlMs: 2_000 })));
  const failing: SingletonWork = {
    name: 'anchoring',
    start: () => {
      throw new Error('injected start failure');
    },
    stop: () => void log.push('a stop anchoring'),
  };
  const a = new FrontEndRole(la, [...recorder(log, 'a'), failing], undefined);
  const b = new FrontEndRole(lb, recorder(log, 'b'), undefined);
  try {
    await assert.rejects(a.start(), /injected start failure/);
    assert.equal(a.leading, false);
    assert.equal(a.serving, false);
    // Not graceful: nothing more may be written once the start failed.
    assert.deepEqual(log, ['a start engine', 'a start cosigner', 'a stop cosigner', 'a stop engine']);
    assert.ok((await la!.current())!.expiresInMs <= 0, 'the lease was given up, not left to expire');
    await b.start();
    assert.equal(b.serving, true);
    assert.deepEqual(log.slice(4), ['b start engine', 'b start cosigner']);
  } finally {
    await a.stop();
    await b.stop();
    for (const db of dbs) await db.close();
  }
});
