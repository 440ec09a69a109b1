import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { LOG_CHANNELS, PgDatabase, PgListener, PgLogStorage } from '../../../src/storage/postgres/index.js';
import { cp, hash, ns } from '../log-storage-fixtures.js';
import { startTestPostgres, type TestPostgres } from './test-databases.js';

let pg: TestPostgres;
before(async () => {
  pg = await startTestPostgres();
});
after(async () => {
  await pg?.stop();
});

const entry = (fe: number, batch: number, i: number) => new TextEncoder().encode(`{"fe":${fe},"b":${batch},"i":${i}}`);

async function waitFor(what: string, ok: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('three front ends sequencing at once: PostgreSQL gives indices without gap or duplicate, each batch contiguous', async () => {
  const url = await pg.freshDatabase();
  const fes = await Promise.all([0, 1, 2].map(() => PgLogStorage.open({ db: url, owner: 'node-a' })));
  try {
    const a = (await fes[0]!.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await fes[0]!.createNamespace(ns('dao:b'), cp(0))).key;
    const placed: { fe: number; batch: number; ns: number; first: number; n: number }[] = [];
    await Promise.all(
      fes.map(async (s, fe) => {
        for (let batch = 0; batch < 30; batch++) {
          const n = 1 + ((fe + batch) % 5);
          const groups = [
            { namespace: a, entries: Array.from({ length: n }, (_, i) => entry(fe, batch, i)) },
            { namespace: b, entries: [entry(fe, batch, 99)] },
          ];
          // Half the batches name the namespaces in the other order: key-ordered locking, no deadlock.
          if (batch % 2 === 1) groups.reverse();
          const firsts = await s.sequence(groups);
          groups.forEach((g, k) => placed.push({ fe, batch, ns: g.namespace, first: firsts[k]!, n: g.entries.length }));
        }
      }),
    );
    for (const key of [a, b]) {
      const mine = placed.filter((p) => p.ns === key).sort((x, y) => x.first - y.first);
      let next = 0;
      for (const p of mine) {
        assert.equal(p.first, next, 'no gap, no overlap');
        next += p.n;
      }
      const stored = await fes[1]!.readEntries(key, 0, next + 10);
      assert.equal(stored.length, next);
      for (const p of mine) {
        for (let i = 0; i < p.n; i++) {
          const want = entry(p.fe, p.batch, key === a ? i : 99);
          assert.deepEqual(stored[p.first + i], want, `entry at ${p.first + i}`);
        }
      }
      const state = (await fes[2]!.sequencingStates()).find((s) => s.namespace === key)!;
      assert.deepEqual(state, { namespace: key, size: 0, sequenced: next }, 'sequenced, not integrated');
      const bytes = stored.reduce((sum, e) => sum + e.length, 0);
      assert.equal(await fes[2]!.entryBytes(key), bytes, 'entry bytes count at sequencing');
    }
  } finally {
    await Promise.all(fes.map((s) => s.close()));
  }
});

test('integration: fenced, within the sequenced entries, a compare-and-set on the integrated size', async () => {
  const url = await pg.freshDatabase();
  let holding = true;
  const fence = {
    check: () => (holding ? Promise.resolve() : Promise.reject(new RemembrancerError('LEASE_LOST', 'taken over'))),
  };
  const holder = await PgLogStorage.open({ db: url, owner: 'node-a', fence });
  const other = await PgLogStorage.open({ db: url, owner: 'node-a' });
  try {
    const a = (await holder.createNamespace(ns('dao:a'), cp(0))).key;
    await other.sequence([{ namespace: a, entries: [entry(1, 0, 0), entry(1, 0, 1), entry(1, 0, 2)] }]);
    const tile = (width: number) => ({ level: 0, index: 0, width, data: new Uint8Array(width * 32).fill(width) });
    const commit = (from: number, to: number) => ({
      namespace: a,
      previousSize: from,
      tiles: [tile(to)],
      tree: { size: to, compactRange: [hash(to)] },
    });
    await assert.rejects(holder.integrate([commit(0, 4)]), (e) => isRemembrancerError(e, 'STORAGE_FAILURE'));
    await holder.integrate([commit(0, 2)]);
    await assert.rejects(holder.integrate([commit(0, 3)]), (e) => isRemembrancerError(e, 'STORAGE_FAILURE'));
    assert.deepEqual(await other.loadTreeState(a), { size: 2, compactRange: [hash(2)] });
    holding = false;
    await assert.rejects(holder.integrate([commit(2, 3)]), (e) => isRemembrancerError(e, 'LEASE_LOST'));
    assert.equal((await other.loadTreeState(a)).size, 2);
    assert.equal((await other.readTile(a, 0, 0))!.width, 2, 'the refused integration wrote no tile');
    // Sequencing goes on without the lease: it is every front end's work.
    assert.deepEqual(await holder.sequence([{ namespace: a, entries: [entry(0, 0, 0)] }]), [3]);
  } finally {
    await holder.close();
    await other.close();
  }
});

test('a listener hears sequencing, integration, checkpoints and new namespaces, and comes back after its connection is cut', async () => {
  const url = await pg.freshDatabase();
  const s = await PgLogStorage.open({ db: url, owner: 'node-a' });
  const heard: string[] = [];
  let listening = 0;
  const l = await PgListener.start({
    url,
    channels: Object.values(LOG_CHANNELS),
    onNotify: (channel, payload) => heard.push(`${channel}:${payload}`),
    onListening: () => listening++,
  });
  const admin = await PgDatabase.open({ url, what: 'admin' });
  try {
    assert.equal(listening, 1);
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    await s.sequence([{ namespace: a, entries: [entry(0, 0, 0)] }]);
    await s.appendCheckpoints([{ ns: a, checkpoint: cp(1) }], 10);
    await waitFor('three notifications', () => heard.length >= 3);
    assert.deepEqual(heard, [
      `${LOG_CHANNELS.namespace}:${a}`,
      `${LOG_CHANNELS.sequenced}:${a}`,
      `${LOG_CHANNELS.checkpoint}:${a}`,
    ]);
    // A rolled-back transaction notifies nobody.
    await assert.rejects(s.createNamespace(ns('dao:a'), cp(0)));
    await admin.run(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'remembrancer-listener'`,
    );
    await waitFor('the listener to reconnect', () => listening === 2, 10_000);
    await s.sequence([{ namespace: a, entries: [entry(0, 0, 1)] }]);
    await waitFor('a notification after the reconnection', () => heard.length >= 4);
    assert.deepEqual(heard.slice(3), [`${LOG_CHANNELS.sequenced}:${a}`]);
  } finally {
    await l.close();
    await admin.close();
    await s.close();
  }
});
