import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { PgLogStorage } from '../../src/storage/postgres/pg-log-storage.js';
import type { WriteFence } from '../../src/storage/postgres/index.js';
import { LEAF_CHUNK } from '../../src/storage/leaf-runs.js';
import { forEachBackend, type StorePlace } from './backend-suite.js';
import { bytes, chunkCommit, commitOf, cp, hash, leafOf, ns } from './log-storage-fixtures.js';
import { code } from './conformance-checks.js';

type Stage = 'entries' | 'tiles' | 'tree' | 'leaves';
type AnyLogStorage = SqliteLogStorage | PgLogStorage;

interface OpenOptions {
  faultInjector?: (stage: Stage) => void;
  fence?: WriteFence;
  owner?: string;
}

/** The log storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, options: OpenOptions = {}): Promise<AnyLogStorage> {
  const faults = options.faultInjector === undefined ? {} : { faultInjector: options.faultInjector };
  if (place.kind === 'sqlite') return new SqliteLogStorage({ path: join(place.dir, 'log.sqlite'), ...faults });
  return PgLogStorage.open({
    db: place.url,
    owner: options.owner ?? 'node-a',
    ...faults,
    ...(options.fence === undefined ? {} : { fence: options.fence }),
  });
}

forEachBackend('LogStorage conformance', (freshPlace) => {
  test('namespaces, tree state and the initial checkpoint round-trip across reopen', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    const a = await s.createNamespace(ns('dao:a'), cp(0));
    const b = await s.createNamespace(ns('dao:b'), cp(0, 9));
    assert.notEqual(a.key, b.key);
    await assert.rejects(async () => s.createNamespace(ns('dao:a'), cp(0)), code('NAMESPACE_EXISTS'));
    await s.close();
    s = await openAt(place);
    assert.deepEqual(await s.loadNamespaces(), [
      { key: a.key, ...ns('dao:a') },
      { key: b.key, ...ns('dao:b') },
    ]);
    assert.deepEqual(await s.loadTreeState(a.key), { size: 0, compactRange: [] });
    assert.equal(await s.entryCount(a.key), 0);
    assert.equal(await s.entryBytes(a.key), 0);
    assert.deepEqual(await s.latestCheckpoint(b.key), cp(0, 9));
    await s.close();
  });

  test('commitBatch writes entries, tiles and tree states of several namespaces; reads give plain bytes', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    await s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    await s.commitBatch([commitOf(a, 3, 2, 3)]);
    await s.close();
    s = await openAt(place);
    assert.equal(await s.entryCount(a), 5);
    assert.equal(await s.entryCount(b), 2);
    const e4 = (await s.readEntry(a, 4))!;
    assert.equal(Object.getPrototypeOf(e4), Uint8Array.prototype, 'a plain Uint8Array, not a driver Buffer');
    assert.deepEqual([...e4], [3, 4]);
    assert.equal(await s.readEntry(a, 5), undefined);
    assert.deepEqual(
      (await s.readEntries(a, 1, 4)).map((e) => [...e]),
      [
        [1, 1],
        [1, 2],
        [3, 3],
      ],
    );
    assert.equal((await s.readEntries(a, 4, 10)).length, 1);
    const t = (await s.readTile(a, 0, 0))!;
    assert.equal(t.width, 5);
    assert.deepEqual(new Uint8Array(t.data), new Uint8Array(5 * 32).fill(3));
    assert.equal(await s.readTile(a, 1, 0), undefined);
    assert.equal((await s.loadTreeState(a)).size, 5);
    assert.deepEqual([...(await s.loadTreeState(b)).compactRange[0]!], [...hash(2)]);
    assert.equal(await s.entryBytes(a), 10);
    assert.equal(await s.entryBytes(b), 4);
    await assert.rejects(async () => s.entryBytes(999), code('STORAGE_FAILURE'));
    await assert.rejects(async () => s.loadTreeState(999), code('STORAGE_FAILURE'));
    await s.close();
  });

  test('a stale previousSize (a second writer) fails the whole batch', async () => {
    const s = await openAt(await freshPlace());
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    await s.commitBatch([commitOf(a, 0, 2)]);
    await assert.rejects(
      async () =>
        s.commitBatch([
          commitOf(b, 0, 1),
          { ...commitOf(a, 0, 1), previousSize: 1, entries: [bytes(9)], tree: { size: 2, compactRange: [hash(1)] } },
        ]),
      code('STORAGE_FAILURE'),
    );
    assert.equal(await s.entryCount(b), 0);
    assert.equal((await s.loadTreeState(b)).size, 0);
    assert.equal(await s.entryBytes(b), 0);
    assert.equal(await s.entryCount(a), 2);
    assert.equal(await s.entryBytes(a), 4);
    await s.close();
  });

  test('two writers on one place racing the same commit: exactly one wins, the other writes nothing', async () => {
    const place = await freshPlace();
    const s1 = await openAt(place);
    const a = (await s1.createNamespace(ns('dao:a'), cp(0))).key;
    const s2 = await openAt(place);
    const results = await Promise.allSettled([
      (async () => s1.commitBatch([commitOf(a, 0, 3, 1)]))(),
      (async () => s2.commitBatch([commitOf(a, 0, 4, 2)]))(),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled').length;
    assert.equal(won, 1, 'one commit, not two');
    for (const r of results) if (r.status === 'rejected') assert.ok(code('STORAGE_FAILURE')(r.reason));
    const size = (await s2.loadTreeState(a)).size;
    assert.ok(size === 3 || size === 4);
    assert.equal(await s2.entryCount(a), size, 'the loser left no entries behind');
    await s1.close();
    await s2.close();
  });

  for (const stage of ['entries', 'tiles', 'tree'] as const) {
    test(`a failure after the ${stage} stage leaves no partial state`, async () => {
      let armed = false;
      const s = await openAt(await freshPlace(), {
        faultInjector: (at) => {
          if (armed && at === stage) throw new Error(`injected at ${at}`);
        },
      });
      const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
      await s.commitBatch([commitOf(a, 0, 2, 1)]);
      armed = true;
      await assert.rejects(
        async () => s.commitBatch([commitOf(a, 2, 3, 7)]),
        (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /injected/.test(e.message),
      );
      assert.equal(await s.entryCount(a), 2);
      assert.equal(await s.readEntry(a, 2), undefined);
      assert.equal((await s.readTile(a, 0, 0))!.width, 2);
      assert.deepEqual(await s.loadTreeState(a), { size: 2, compactRange: [hash(1)] });
      assert.equal(await s.entryBytes(a), 4);
      armed = false;
      await s.commitBatch([commitOf(a, 2, 3, 7)]);
      assert.equal(await s.entryCount(a), 5);
      assert.equal(await s.entryBytes(a), 10);
      await s.close();
    });
  }

  test('checkpoint history keeps the newest `retain`, oldest first; a duplicate fails the whole append', async () => {
    const s = await openAt(await freshPlace());
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    for (let size = 1; size <= 9; size++) await s.appendCheckpoints([{ ns: a, checkpoint: cp(size) }], 4);
    await s.appendCheckpoints(
      [
        { ns: a, checkpoint: cp(10) },
        { ns: b, checkpoint: cp(3) },
      ],
      4,
    );
    await s.appendCheckpoints([], 4);
    assert.deepEqual(
      (await s.checkpointHistory(a, 100)).map((c) => c.size),
      [7, 8, 9, 10],
    );
    assert.deepEqual(
      (await s.checkpointHistory(a, 2)).map((c) => c.size),
      [9, 10],
    );
    assert.deepEqual(await s.latestCheckpoint(a), cp(10));
    assert.deepEqual(
      (await s.checkpointHistory(b, 100)).map((c) => c.size),
      [0, 3],
    );
    await assert.rejects(
      async () =>
        s.appendCheckpoints(
          [
            { ns: b, checkpoint: cp(4) },
            { ns: a, checkpoint: cp(10) },
          ],
          4,
        ),
      code('STORAGE_FAILURE'),
    );
    assert.equal((await s.latestCheckpoint(b))!.size, 3);
    await assert.rejects(async () => s.appendCheckpoints([{ ns: a, checkpoint: cp(11) }], 0), code('INVALID_ARGUMENT'));
    await s.close();
  });

  test('every call after close fails with SHUTTING_DOWN', async () => {
    const s = await openAt(await freshPlace());
    await s.close();
    await s.close();
    await assert.rejects(async () => s.loadNamespaces(), code('SHUTTING_DOWN'));
    await assert.rejects(async () => s.commitBatch([]), code('SHUTTING_DOWN'));
    await assert.rejects(async () => s.readEntry(1, 0), code('SHUTTING_DOWN'));
  });

  test('a commit that completes a chunk writes its leaf run in the same transaction; a failure writes none', async () => {
    let armed = false;
    const s = await openAt(await freshPlace(), {
      faultInjector: (at) => {
        if (armed && at === 'leaves') throw new Error('injected at leaves');
      },
    });
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    armed = true;
    await assert.rejects(
      async () => s.commitBatch([chunkCommit(a, 0, true)]),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /injected/.test(e.message),
    );
    assert.equal(await s.entryCount(a), 0);
    assert.equal(await s.leafIndexedSize(a), 0);
    assert.equal(await s.leafCandidates(a, leafOf(300), 0), undefined);
    armed = false;
    await s.commitBatch([chunkCommit(a, 0, true)]);
    assert.equal(await s.leafIndexedSize(a), LEAF_CHUNK);
    for (const i of [0, 1, 255, 256, 300, 40_000, LEAF_CHUNK - 1]) {
      assert.deepEqual(await s.leafCandidates(a, leafOf(i), 0), { chunk: 0, indices: [i] }, `leaf ${i}`);
    }
    // The key is the hash's first 48 bits: a hash differing after them is a candidate (the reader checks it).
    const near = leafOf(300);
    near[31] = 0xee;
    assert.deepEqual(await s.leafCandidates(a, near, 0), { chunk: 0, indices: [300] });
    near[5] = 0xee;
    assert.equal(await s.leafCandidates(a, near, 0), undefined);
    assert.equal(await s.leafCandidates(a, leafOf(300), 1), undefined);
    await assert.rejects(async () => s.leafCandidates(a, new Uint8Array(31), 0), code('INVALID_ARGUMENT'));
    await s.close();
  });

  test('runs are written only in chunk order: a gap is refused, indexChunk closes it', async () => {
    const s = await openAt(await freshPlace());
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    await s.commitBatch([chunkCommit(b, 0, false)]);
    assert.equal(await s.leafIndexedSize(b), 0);
    await assert.rejects(
      async () => s.commitBatch([chunkCommit(b, 1, true)]),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /leaf index/.test(e.message),
    );
    assert.equal(await s.entryCount(b), LEAF_CHUNK);
    await assert.rejects(async () => s.indexChunk(b, 1), code('STORAGE_FAILURE'));
    await s.indexChunk(b, 0);
    assert.equal(await s.leafIndexedSize(b), LEAF_CHUNK);
    await assert.rejects(async () => s.indexChunk(b, 0), code('STORAGE_FAILURE'));
    await s.commitBatch([chunkCommit(b, 1, true)]);
    assert.equal(await s.leafIndexedSize(b), 2 * LEAF_CHUNK);
    await assert.rejects(async () => s.indexChunk(b, 2), code('STORAGE_FAILURE'));
    assert.deepEqual(await s.leafCandidates(b, leafOf(LEAF_CHUNK + 7), 0), { chunk: 1, indices: [LEAF_CHUNK + 7] });
    await s.close();
  });

  test('(PostgreSQL) a database is refused to another owner; the fence stops every write', async (t) => {
    const place = await freshPlace();
    if (place.kind !== 'postgres') {
      t.skip('one node per SQLite file is the file system’s business: nothing to fence');
      return;
    }
    const s = await openAt(place);
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    await s.close();
    await assert.rejects(openAt(place, { owner: 'node-b' }), (e) => {
      assert.ok(code('STORAGE_FAILURE')(e));
      assert.match((e as Error).message, /belongs to "node-a", not "node-b"/);
      return true;
    });
    let holding = true;
    const fence: WriteFence = {
      check: () =>
        holding ? Promise.resolve() : Promise.reject(new RemembrancerError('LEASE_LOST', 'lease taken over')),
    };
    const f = await openAt(place, { fence });
    await f.commitBatch([commitOf(a, 0, 2, 1)]);
    holding = false;
    await assert.rejects(f.commitBatch([commitOf(a, 2, 1, 2)]), code('LEASE_LOST'));
    await assert.rejects(f.appendCheckpoints([{ ns: a, checkpoint: cp(2) }], 10), code('LEASE_LOST'));
    await assert.rejects(f.createNamespace(ns('dao:b'), cp(0)), code('LEASE_LOST'));
    assert.equal(await f.entryCount(a), 2, 'reads still work; nothing was written');
    assert.equal((await f.latestCheckpoint(a))!.size, 0);
    assert.equal((await f.loadNamespaces()).length, 1);
    await f.close();
  });
});
