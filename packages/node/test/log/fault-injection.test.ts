import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { MemoryTree, isRemembrancerError, verifyInclusion, leafHash } from '@vaultmesh/core';
import { SqliteLogStorage, type CommitStage } from '../../src/storage/index.js';
import { createLogEngine } from '../../src/log/index.js';
import { LOG_SEED, NODE_NAME, entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-faults-');
after(() => dirs.cleanup());

describe('log engine: storage failures', () => {
  for (const stage of ['entries', 'tiles', 'tree'] as CommitStage[]) {
    test(`a transaction failing after ${stage} rejects its batch and leaves no partial state`, async () => {
      const dir = dirs.make();
      let armed = false;
      const storage = new SqliteLogStorage({
        path: join(dir, 'log.sqlite'),
        synchronous: 'NORMAL',
        faultInjector: (at) => {
          if (armed && at === stage) throw new Error(`disk on fire (${at})`);
        },
      });
      const e = await createLogEngine(storage, { nodeName: NODE_NAME, logSeed: LOG_SEED, checkpointIntervalMs: 0 });
      await e.createNamespace('f:a');
      await e.createNamespace('f:b');
      const tree = new MemoryTree();
      // 300 entries: the failing batch must extend a partial tile and complete one.
      const first = Array.from({ length: 300 }, (_, i) => entry('f:a', i));
      await e.append('f:a', first);
      for (const d of first) tree.append(d);
      const before = {
        root: await e.rootAt('f:a', 300),
        tile: await e.readTile('f:a', 0, 1, 44),
        stats: e.stats(),
      };

      armed = true;
      const failing = [
        e.append(
          'f:a',
          Array.from({ length: 250 }, (_, i) => entry('f:a', 1000 + i)),
        ),
        e.append('f:b', [entry('f:b', 1000)]),
      ];
      for (const r of await Promise.allSettled(failing)) {
        assert.equal(r.status, 'rejected');
        assert.ok(isRemembrancerError(r.reason, 'STORAGE_FAILURE'));
      }
      assert.equal(e.sequencedSize('f:a'), 300);
      assert.equal(e.sequencedSize('f:b'), 0);
      assert.deepEqual(await e.rootAt('f:a', 300), before.root);
      assert.deepEqual(await e.readTile('f:a', 0, 1, 44), before.tile);
      assert.equal(await e.readTile('f:a', 0, 1, 45), undefined);
      assert.equal(await e.getEntry('f:a', 300), undefined);
      assert.deepEqual((await e.getEntries('f:a', 290, 1000)).length, 10);
      assert.equal(e.stats().failedCommits, before.stats.failedCommits + 1);

      // The engine keeps going: the next batch takes the indices the failed one did not get.
      armed = false;
      const next = Array.from({ length: 250 }, (_, i) => entry('f:a', 300 + i));
      const r = await e.append('f:a', next);
      assert.deepEqual([r[0]!.index, r[249]!.index], [300, 549]);
      for (const d of next) tree.append(d);
      assert.deepEqual(await e.rootAt('f:a', 550), tree.root());
      verifyInclusion(420, 550, leafHash(next[120]!), await e.inclusionProof('f:a', 420, 550), tree.root());
      await e.close();

      // And what is on disk is the committed state only.
      const reopened = await open(dir);
      assert.equal(reopened.sequencedSize('f:a'), 550);
      assert.equal(reopened.sequencedSize('f:b'), 0);
      assert.deepEqual(await reopened.rootAt('f:a', 550), tree.root());
      await reopened.close();
    });
  }

  test('a failing batch hasher rejects the batch without storing anything', async () => {
    let fail = true;
    const e = await open(dirs.make(), {
      batchHasher: {
        leafHashes: (datas) => {
          if (fail) throw new Error('hasher broke');
          return datas.map(leafHash);
        },
      },
    });
    await e.createNamespace('f:h');
    await assert.rejects(
      e.append('f:h', [entry('f:h', 0)]),
      (err) => isRemembrancerError(err, 'INTERNAL') && /hasher broke/.test(err.message),
    );
    assert.equal(e.sequencedSize('f:h'), 0);
    fail = false;
    assert.equal((await e.append('f:h', [entry('f:h', 0)]))[0]!.index, 0);
    await e.close();
  });
});
