import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemembrancerError, verifyConsistency, verifyInclusion } from '@vaultmesh/core';
import { openLogEngineOn, type ObservableLogEngine } from '../../../src/log/index.js';
import { PgDatabase, PgLogStorage, SequencingLease } from '../../../src/storage/postgres/index.js';
import type { WriteFence } from '../../../src/storage/postgres/index.js';
import { startTestPostgres, type TestPostgres } from '../../storage/postgres/test-databases.js';
import { LOG_SEED, NODE_NAME, entry } from '../engine-fixture.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

/** A front end: its own pool, the shared database, and the engine over it. */
async function frontEnd(url: string, fence?: WriteFence): Promise<ObservableLogEngine> {
  const storage = await PgLogStorage.open({ db: url, owner: 'node-a', ...(fence ? { fence } : {}) });
  return openLogEngineOn(storage, {
    nodeName: NODE_NAME,
    logSeed: LOG_SEED,
    checkpointIntervalMs: 50,
    batchMaxAgeMs: 2,
    integrationWaitMs: 5_000,
  });
}

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Three front ends on a fresh database: `a` leads and has created `namespace`, which b and c have loaded. */
async function threeFrontEnds(namespace: string): Promise<Record<'a' | 'b' | 'c', ObservableLogEngine>> {
  const url = await pg.freshDatabase();
  const [a, b, c] = [await frontEnd(url), await frontEnd(url), await frontEnd(url)];
  try {
    await a.lead();
    await a.createNamespace(namespace);
    await until(
      'b and c to load the namespace',
      () => b.getNamespace(namespace) !== undefined && c.getNamespace(namespace) !== undefined,
    );
    return { a, b, c };
  } catch (e) {
    await Promise.all([b.close(), c.close()]);
    await a.close();
    throw e;
  }
}

test('three front ends: appends anywhere get PostgreSQL indices, the leader integrates and signs, receipts verify everywhere', async () => {
  const { a, b, c } = await threeFrontEnds('dao:shared');
  try {
    assert.equal(a.leading, true);
    assert.equal(b.leading, false);
    const results = await Promise.all(
      [a, b, c].flatMap((fe, f) =>
        Array.from({ length: 20 }, (_, i) => fe.append('dao:shared', [entry(`fe${f}`, i), entry(`fe${f}`, i + 100)])),
      ),
    );
    const indices = results
      .flat()
      .map((r) => r.index)
      .sort((x, y) => x - y);
    assert.deepEqual(
      indices,
      Array.from({ length: 120 }, (_, i) => i),
      'no gap, no duplicate',
    );
    for (const r of results) assert.equal(r[1]!.index, r[0]!.index + 1, 'a batch is contiguous');
    // Every append resolved once integrated: each front end proves its own entries at once.
    await until('a checkpoint of every entry', () => (a.latestCheckpoint('dao:shared')?.size ?? 0) === 120);
    await until(
      'the others to see it',
      () => c.latestCheckpoint('dao:shared')?.size === 120 && b.latestCheckpoint('dao:shared')?.size === 120,
    );
    const cp = c.latestCheckpoint('dao:shared')!;
    for (const fe of [b, c]) {
      assert.equal(fe.integratedSize('dao:shared'), 120);
      for (const r of results.slice(0, 40).flat()) {
        const proof = await fe.inclusionProof('dao:shared', r.index, cp.size);
        verifyInclusion(r.index, cp.size, r.leafHash, proof, cp.root);
        assert.ok(await fe.getEntry('dao:shared', r.index));
      }
      assert.deepEqual(await fe.rootAt('dao:shared', 120), cp.root);
    }
    // Only the leader signs: a follower's publishCheckpoint signs nothing new.
    assert.equal((await b.publishCheckpoint('dao:shared'))?.size, 120);
  } finally {
    await Promise.all([b.close(), c.close()]);
    await a.close();
  }
});

test('failover: the old leader stops, another leads from where it stopped; checkpoints stay consistent', async () => {
  const { a, b, c } = await threeFrontEnds('dao:f');
  try {
    for (let i = 0; i < 10; i++) await c.append('dao:f', [entry('c', i)]);
    await until('a checkpoint of 10', () => (a.latestCheckpoint('dao:f')?.size ?? 0) === 10);
    const before = a.latestCheckpoint('dao:f')!;
    a.follow(); // the lease is gone (expired, taken): a stops integrating and signing at once
    // Appends go on while nobody leads: durable at their indices, resolved after the wait bound.
    const pending = Promise.all(Array.from({ length: 5 }, (_, i) => c.append('dao:f', [entry('c2', i)])));
    await until('c to sequence the five', () => c.sequencedSize('dao:f') === 15);
    assert.equal(a.integratedSize('dao:f'), 10, 'nobody integrates without the lease');
    await b.lead();
    const appended = await pending;
    assert.deepEqual(
      appended
        .flat()
        .map((r) => r.index)
        .sort((x, y) => x - y),
      [10, 11, 12, 13, 14],
    );
    await until('b to sign 15', () => (b.latestCheckpoint('dao:f')?.size ?? 0) === 15);
    const afterCp = b.latestCheckpoint('dao:f')!;
    const proof = await b.consistencyProof('dao:f', before.size, afterCp.size);
    verifyConsistency(before.size, afterCp.size, proof, before.root, afterCp.root);
    await until('a to follow', () => a.latestCheckpoint('dao:f')?.size === 15);
  } finally {
    await Promise.all([a.close(), c.close()]);
    await b.close();
  }
});

test('with the real lease as fence: a leader whose lease was taken over cannot integrate or sign', async () => {
  const url = await pg.freshDatabase();
  const db = await PgDatabase.open({ url, what: 'lease' });
  const opened: ObservableLogEngine[] = [];
  let renewing: NodeJS.Timeout | undefined;
  try {
    const leaseA = await SequencingLease.open({ db, holder: 'a', ttlMs: 1_000 });
    const leaseB = await SequencingLease.open({ db, holder: 'b', ttlMs: 60_000 });
    assert.ok(await leaseA.acquireOrRenew());
    // a renews, as its front end's lease loop does, until it is "paused" below.
    renewing = setInterval(() => void leaseA.acquireOrRenew(), 200);
    const a = await frontEnd(url, leaseA);
    opened.push(a);
    await a.lead();
    await a.createNamespace('dao:fenced');
    const b = await frontEnd(url, leaseB);
    opened.push(b);
    await b.append('dao:fenced', [entry('b', 0)]);
    await until('a checkpoint of 1', () => (a.latestCheckpoint('dao:fenced')?.size ?? 0) === 1);
    // a is paused past its lease (it stops renewing) and b takes over.
    clearInterval(renewing);
    await until('b to take the lease over', async () => (await leaseB.acquireOrRenew()) !== undefined);
    // a still believes it leads, but every write it tries is refused: its integrator stops.
    const r = b.append('dao:fenced', [entry('b', 1)]);
    await until('a to stop integrating', () => !a.leading);
    assert.equal(a.integratedSize('dao:fenced'), 1);
    await b.lead();
    assert.equal((await r)[0]!.index, 1);
    await until('b to sign 2', () => (b.latestCheckpoint('dao:fenced')?.size ?? 0) === 2);
    await assert.rejects(a.createNamespace('dao:other'), (e) => isRemembrancerError(e) && e.code === 'LEASE_LOST');
  } finally {
    clearInterval(renewing);
    for (const e of opened.reverse()) await e.close();
    await db.close();
  }
});

test('a front end opened on a log that does not grow serves proofs from memory: the right edge is installed at open, not read per proof', async () => {
  const url = await pg.freshDatabase();
  const a = await frontEnd(url);
  let late: ObservableLogEngine | undefined;
  try {
    await a.lead();
    await a.createNamespace('dao:still');
    // 1,000 entries: the level-0 tile at the right edge is partial (1,000 = 3·256 + 232).
    await a.append(
      'dao:still',
      Array.from({ length: 1000 }, (_, i) => entry('still', i)),
    );
    await until('a checkpoint of every entry', () => (a.latestCheckpoint('dao:still')?.size ?? 0) === 1000);
    late = await frontEnd(url);
    const engine = late;
    await until(
      'the late front end to see the checkpoint',
      () => (engine.latestCheckpoint('dao:still')?.size ?? 0) === 1000,
    );
    const prove = async () => {
      for (let i = 0; i < 1000; i += 7) await engine.inclusionProof('dao:still', i, 1000);
    };
    // The first pass loads the full tiles (cached: they never change); after it, nothing is read.
    await prove();
    const misses = engine.stats().tileCache.misses;
    await prove();
    assert.equal(engine.stats().tileCache.misses, misses, 'no tile read from the database on the second pass');
  } finally {
    await late?.close();
    await a.close();
  }
});
