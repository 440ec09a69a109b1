import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isRemembrancerError, leafHash, type ErrorCode } from '@vaultmesh/core';
import { MAX_ENTRY_BYTES } from '@vaultmesh/core';
import { LOG_DB_FILE } from '../../src/log/index.js';
import { LOG_SEED, NODE_NAME, entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-engine-');
after(() => dirs.cleanup());

const rejectsWith = (p: Promise<unknown>, code: ErrorCode) => assert.rejects(p, (e) => isRemembrancerError(e, code));
const throwsWith = (fn: () => unknown, code: ErrorCode) => assert.throws(fn, (e) => isRemembrancerError(e, code));

describe('log engine: namespaces', () => {
  test('create, get, list; origin and vkey derive from the node name and log key', async () => {
    const e = await open(dirs.make());
    const rec = await e.createNamespace('dao:vaultmesh', { retention: 'forever' });
    assert.equal(rec.origin, `${NODE_NAME}/dao:vaultmesh`);
    assert.match(rec.logVkey, new RegExp(`^${NODE_NAME}/dao:vaultmesh\\+[0-9a-f]{8}\\+`));
    assert.deepEqual(rec.policy, { retention: 'forever' });
    assert.deepEqual(e.getNamespace('dao:vaultmesh'), rec);
    await e.createNamespace('dao:other');
    assert.deepEqual(
      e.listNamespaces().map((n) => n.id),
      ['dao:vaultmesh', 'dao:other'],
    );
    assert.equal(e.getNamespace('dao:nope'), undefined);
    assert.equal(e.sequencedSize('dao:vaultmesh'), 0);
    await rejectsWith(e.createNamespace('dao:vaultmesh'), 'NAMESPACE_EXISTS');
    for (const bad of ['DAO:x', 'dao', 'dao:', ':x', '-a:b', 'a:b:c', `a:${'x'.repeat(64)}`, 'a b:c']) {
      await rejectsWith(e.createNamespace(bad), 'INVALID_NAMESPACE_ID');
    }
    await e.createNamespace(`${'a'.repeat(63)}:${'b'.repeat(63)}`);
    // Callers get copies: editing a record changes nothing inside.
    rec.policy.retention = 'never';
    assert.deepEqual(e.getNamespace('dao:vaultmesh')!.policy, { retention: 'forever' });
    await e.close();
  });

  test('rejects bad configuration', async () => {
    await rejectsWith(open(dirs.make(), { logSeed: new Uint8Array(31) }), 'CONFIG_INVALID');
    await rejectsWith(open(dirs.make(), { nodeName: 'has space' }), 'CONFIG_INVALID');
    await rejectsWith(open(dirs.make(), { batchMaxEntries: 0 }), 'CONFIG_INVALID');
  });

  test('refuses to open with a different log key than the namespaces were created with', async () => {
    const dir = dirs.make();
    const e = await open(dir);
    await e.createNamespace('dao:a');
    await e.close();
    await rejectsWith(open(dir, { logSeed: new Uint8Array(32).fill(9) }), 'STORAGE_FAILURE');
    await rejectsWith(open(dir, { nodeName: 'beta.test' }), 'STORAGE_FAILURE');
    const again = await open(dir, { logSeed: LOG_SEED.slice() });
    assert.equal(again.listNamespaces().length, 1);
    await again.close();
  });
});

describe('log engine: appends', () => {
  test('concurrent appends to several namespaces get dense, ordered indices', async () => {
    const e = await open(dirs.make());
    const ids = ['t:a', 't:b', 't:c'];
    for (const id of ids) await e.createNamespace(id);
    const calls: { ns: string; from: number; n: number; p: Promise<{ index: number; leafHash: Uint8Array }[]> }[] = [];
    const counters = new Map(ids.map((id) => [id, 0]));
    for (let k = 0; k < 300; k++) {
      const ns = ids[k % 3]!;
      const n = 1 + (k % 5);
      const from = counters.get(ns)!;
      counters.set(ns, from + n);
      calls.push({
        ns,
        from,
        n,
        p: e.append(
          ns,
          Array.from({ length: n }, (_, i) => entry(ns, from + i)),
        ),
      });
    }
    for (const c of calls) {
      const r = await c.p;
      assert.deepEqual(
        r.map((x) => x.index),
        Array.from({ length: c.n }, (_, i) => c.from + i),
      );
      r.forEach((x, i) => assert.deepEqual(x.leafHash, leafHash(entry(c.ns, c.from + i))));
    }
    for (const ns of ids) {
      const size = counters.get(ns)!;
      assert.equal(e.sequencedSize(ns), size);
      assert.equal(e.integratedSize(ns), size);
      assert.deepEqual(
        await e.getEntries(ns, 0, size),
        Array.from({ length: size }, (_, i) => entry(ns, i)),
      );
      assert.deepEqual(await e.getEntry(ns, size - 1), entry(ns, size - 1));
      assert.equal(await e.getEntry(ns, size), undefined);
      assert.deepEqual(await e.leafHashAt(ns, 3), leafHash(entry(ns, 3)));
    }
    await e.close();
  });

  test('group commit: many concurrent appends become few transactions', async () => {
    const e = await open(dirs.make(), { batchMaxEntries: 1000, batchMaxAgeMs: 50 });
    await e.createNamespace('t:gc');
    await Promise.all(Array.from({ length: 3000 }, (_, i) => e.append('t:gc', [entry('t:gc', i)])));
    const st = e.stats();
    assert.equal(st.committedEntries, 3000);
    assert.ok(st.commits <= 4, `3000 appends took ${st.commits} transactions`);
    assert.equal(st.largestBatchEntries, 1000);
    await e.close();
  });

  test('QUEUE_FULL pushback rejects at once and stores nothing of the rejected call', async () => {
    const e = await open(dirs.make(), { queueMaxEntries: 10, batchMaxAgeMs: 20 });
    await e.createNamespace('t:q');
    const accepted = e.append(
      't:q',
      Array.from({ length: 8 }, (_, i) => entry('t:q', i)),
    );
    await rejectsWith(e.append('t:q', [entry('t:q', 100), entry('t:q', 101), entry('t:q', 102)]), 'QUEUE_FULL');
    await accepted;
    assert.equal(e.sequencedSize('t:q'), 8);
    assert.deepEqual(
      await e.getEntries('t:q', 0, 100),
      Array.from({ length: 8 }, (_, i) => entry('t:q', i)),
    );
    assert.equal(e.stats().rejectedQueueFull, 1);
    // After the queue drained, appends are accepted again.
    assert.deepEqual(
      (await e.append('t:q', [entry('t:q', 8)])).map((r) => r.index),
      [8],
    );
    await e.close();
  });

  test('input errors reject without storing anything', async () => {
    const e = await open(dirs.make());
    await e.createNamespace('t:x');
    await rejectsWith(e.append('t:nope', [entry('t', 1)]), 'NAMESPACE_NOT_FOUND');
    await rejectsWith(e.append('t:x', [entry('t', 1), new Uint8Array(MAX_ENTRY_BYTES + 1)]), 'ENTRY_TOO_LARGE');
    assert.deepEqual(await e.append('t:x', []), []);
    const max = await e.append('t:x', [new Uint8Array(MAX_ENTRY_BYTES).fill(0x7b)]);
    assert.equal(max[0]!.index, 0);
    assert.equal(e.sequencedSize('t:x'), 1);
    throwsWith(() => e.sequencedSize('t:nope'), 'NAMESPACE_NOT_FOUND');
    await rejectsWith(e.inclusionProof('t:x', 1, 1), 'INDEX_OUT_OF_RANGE');
    await rejectsWith(e.inclusionProof('t:x', 0, 2), 'SIZE_OUT_OF_RANGE');
    await rejectsWith(e.consistencyProof('t:x', 1, 0), 'INVALID_RANGE');
    await rejectsWith(e.rootAt('t:x', 2), 'SIZE_OUT_OF_RANGE');
    await rejectsWith(e.leafHashAt('t:x', 1), 'INDEX_OUT_OF_RANGE');
    await rejectsWith(e.getEntries('t:x', 2, 1), 'INVALID_RANGE');
    await rejectsWith(e.readTile('t:x', 0, 0, 257), 'INVALID_ARGUMENT');
    await rejectsWith(e.readTile('t:x', -1, 0, 1), 'INVALID_ARGUMENT');
    await e.close();
  });

  test('close commits what is queued, then refuses new work', async () => {
    const dir = dirs.make();
    const e = await open(dir, { batchMaxAgeMs: 10_000 });
    await e.createNamespace('t:c');
    const pending = e.append('t:c', [entry('t:c', 0), entry('t:c', 1)]);
    const closed = e.close();
    await rejectsWith(e.append('t:c', [entry('t:c', 2)]), 'SHUTTING_DOWN');
    await rejectsWith(e.createNamespace('t:d'), 'SHUTTING_DOWN');
    assert.deepEqual(
      (await pending).map((r) => r.index),
      [0, 1],
    );
    await closed;
    await e.close();
    const again = await open(dir);
    assert.equal(again.sequencedSize('t:c'), 2);
    // close signed a checkpoint over everything acknowledged.
    assert.equal(again.latestCheckpoint('t:c')!.size, 2);
    await again.close();
  });

  test('reopen after close preserves entries, tree, tiles and checkpoints', async () => {
    const dir = dirs.make();
    const e = await open(dir);
    await e.createNamespace('t:r', { p: 1 });
    await e.createNamespace('t:s');
    await e.append(
      't:r',
      Array.from({ length: 700 }, (_, i) => entry('t:r', i)),
    );
    await e.publishCheckpoint('t:r');
    await e.append(
      't:r',
      Array.from({ length: 33 }, (_, i) => entry('t:r', 700 + i)),
    );
    await e.append('t:s', [entry('t:s', 0)]);
    const snapshot = {
      namespaces: e.listNamespaces(),
      root: await e.rootAt('t:r', 733),
      root700: await e.rootAt('t:r', 700),
      proof: await e.inclusionProof('t:r', 500, 733),
      tile: await e.readTile('t:r', 0, 2, 221),
      bundle: await e.readEntryBundle('t:r', 1, 256),
      history: await e.checkpointHistory('t:r'),
    };
    await e.close();
    const r = await open(dir);
    assert.deepEqual(r.listNamespaces(), snapshot.namespaces);
    assert.equal(r.sequencedSize('t:r'), 733);
    assert.equal(r.integratedSize('t:s'), 1);
    assert.deepEqual(await r.rootAt('t:r', 733), snapshot.root);
    assert.deepEqual(await r.rootAt('t:r', 700), snapshot.root700);
    assert.deepEqual(await r.inclusionProof('t:r', 500, 733), snapshot.proof);
    assert.deepEqual(await r.readTile('t:r', 0, 2, 221), snapshot.tile);
    assert.deepEqual(await r.readEntryBundle('t:r', 1, 256), snapshot.bundle);
    // The final checkpoint of close() is the one addition.
    assert.deepEqual((await r.checkpointHistory('t:r')).slice(0, -1), snapshot.history);
    assert.equal(r.latestCheckpoint('t:r')!.size, 733);
    // And the log goes on where it stopped.
    assert.deepEqual(
      (await r.append('t:r', [entry('t:r', 733)])).map((x) => x.index),
      [733],
    );
    await r.close();
  });

  test('refuses loudly to open a database whose tree, entries, tiles or checkpoints disagree', async () => {
    const tamperings: [string, string][] = [
      ['entries', `DELETE FROM entries WHERE idx = (SELECT max(idx) FROM entries)`],
      ['entries', `INSERT INTO entries (ns, idx, data) VALUES (1, 300, x'00')`],
      ['tree', `UPDATE tree_state SET size = size - 1`],
      ['last entry', `UPDATE entries SET data = x'7b7d' WHERE idx = 299`],
      ['tiles', `UPDATE tiles SET data = zeroblob(length(data)) WHERE level = 0 AND idx = 1`],
      ['checkpoint', `UPDATE checkpoints SET root = zeroblob(32) WHERE size = (SELECT max(size) FROM checkpoints)`],
    ];
    for (const [what, sql] of tamperings) {
      const dir = dirs.make();
      const e = await open(dir, { tileMirrorDir: false });
      await e.createNamespace('t:tamper');
      await e.append(
        't:tamper',
        Array.from({ length: 300 }, (_, i) => entry('t:tamper', i)),
      );
      await e.close();
      const db = new Database(join(dir, LOG_DB_FILE));
      db.exec(sql);
      db.close();
      await assert.rejects(
        () => open(dir, { tileMirrorDir: false }),
        (err) => isRemembrancerError(err, 'STORAGE_FAILURE') && /inconsistent|malformed/.test(err.message),
        `tampered ${what}: ${sql}`,
      );
    }
  });
});
