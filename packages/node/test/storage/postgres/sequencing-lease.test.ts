import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemembrancerError } from '@vaultmesh/core';
import { PgDatabase } from '../../../src/storage/postgres/index.js';
import { SequencingLease } from '../../../src/storage/postgres/sequencing-lease.js';
import { startTestPostgres, type TestPostgres } from './test-databases.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

const lost = (e: unknown) => isRemembrancerError(e) && e.code === 'LEASE_LOST';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function setup(ttlMs = 300) {
  const db = await PgDatabase.open({ url: await pg.freshDatabase(), what: 'lease test', maxConnections: 6 });
  const a = await SequencingLease.open({ db, holder: 'fe-a', holderUrl: 'http://a', ttlMs });
  const b = await SequencingLease.open({ db, holder: 'fe-b', holderUrl: 'http://b', ttlMs });
  await db.run('CREATE TABLE work (token BIGINT NOT NULL)');
  // A fenced write, as every store of the holder's work makes it.
  const write = (lease: SequencingLease) =>
    db.transaction(async (tx) => {
      await lease.check(tx);
      await tx.run('INSERT INTO work VALUES ($1)', [lease.grant?.token ?? -1]);
    });
  return { db, a, b, write };
}

test('one holder at a time; renewal keeps the token; the other front end sees who holds it and where', async () => {
  const { db, a, b, write } = await setup(5_000);
  try {
    const g = await a.acquireOrRenew();
    assert.equal(g?.token, 1);
    assert.equal(await b.acquireOrRenew(), undefined, 'held and unexpired: not granted to another');
    assert.equal((await a.acquireOrRenew())?.token, 1, 'renewed, same token');
    const info = await b.current();
    assert.equal(info?.holder, 'fe-a');
    assert.equal(info?.holderUrl, 'http://a');
    assert.ok(info!.expiresInMs > 4_000 && info!.expiresInMs <= 5_000);
    await write(a);
    await assert.rejects(write(b), lost, 'a front end without the lease writes nothing');
    assert.deepEqual(await db.rows('SELECT token FROM work'), [{ token: 1 }]);
  } finally {
    await db.close();
  }
});

test('an expired lease goes to another front end with a larger token, and the old holder is fenced off', async () => {
  const { db, a, b, write } = await setup(300);
  try {
    assert.equal((await a.acquireOrRenew())?.token, 1);
    await sleep(400); // a is paused past its lease: it neither renews nor knows
    const g = await b.acquireOrRenew();
    assert.equal(g?.token, 2, 'a takeover always raises the token');
    assert.equal(a.grant, undefined, 'locally, a stops at validUntil (measured before its renewal was sent)');
    await assert.rejects(write(a), lost);
    assert.equal(await a.acquireOrRenew(), undefined, 'its renewal fails: the row moved on');
    await write(b);
    assert.deepEqual(await db.rows('SELECT token FROM work'), [{ token: 2 }]);
  } finally {
    await db.close();
  }
});

test('the fence holds the row: a takeover waits for the holder’s write in flight, then the old holder cannot write', async () => {
  const { db, a, b, write } = await setup(300);
  try {
    await a.acquireOrRenew();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let checked!: () => void;
    const inFence = new Promise<void>((r) => (checked = r));
    const slow = db.transaction(async (tx) => {
      await a.check(tx);
      checked();
      await gate;
      await tx.run('INSERT INTO work VALUES (1)');
    });
    await inFence;
    await sleep(400); // expired meanwhile
    let taken = false;
    const takeover = b.acquireOrRenew().then((g) => {
      taken = true;
      return g;
    });
    await sleep(200);
    assert.equal(taken, false, 'the takeover waits on the row a write of the old holder has FOR SHARE');
    release();
    await slow;
    assert.equal((await takeover)?.token, 2);
    await assert.rejects(write(a), lost);
    assert.deepEqual(await db.rows('SELECT token FROM work ORDER BY token'), [{ token: 1 }]);
  } finally {
    await db.close();
  }
});

test('release hands the lease over at once; two front ends racing a free lease: exactly one wins', async () => {
  const { db, a, b } = await setup(60_000);
  try {
    const [ga, gb] = await Promise.all([a.acquireOrRenew(), b.acquireOrRenew()]);
    assert.equal([ga, gb].filter((g) => g !== undefined).length, 1);
    const [holder, other] = ga !== undefined ? [a, b] : [b, a];
    assert.equal(await other.acquireOrRenew(), undefined);
    await holder.release();
    assert.equal(holder.grant, undefined);
    assert.equal((await other.acquireOrRenew())?.token, 2, 'no waiting for a 60 s expiry');
  } finally {
    await db.close();
  }
});

test('a lease shorter than 100 ms is refused', async () => {
  const db = await PgDatabase.open({ url: await pg.freshDatabase(), what: 'lease test' });
  try {
    await assert.rejects(
      SequencingLease.open({ db, holder: 'x', ttlMs: 10 }),
      (e) => isRemembrancerError(e) && e.code === 'CONFIG_INVALID',
    );
  } finally {
    await db.close();
  }
});
