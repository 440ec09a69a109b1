import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ROOT, NoteVerifier, base64Encode, openCheckpoint, verifyConsistency } from '@vaultmesh/core';
import { NODE_NAME, entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-checkpoints-');
after(() => dirs.cleanup());

describe('log engine: checkpoints', () => {
  test('a new namespace has a signed size-0 checkpoint', async () => {
    const e = await open(dirs.make());
    const rec = await e.createNamespace('c:zero');
    const cp = e.latestCheckpoint('c:zero')!;
    assert.equal(cp.size, 0);
    assert.deepEqual(cp.root, EMPTY_ROOT);
    const opened = openCheckpoint(cp.note, NoteVerifier.fromVkey(rec.logVkey));
    assert.equal(opened.checkpoint.origin, `${NODE_NAME}/c:zero`);
    assert.equal(opened.checkpoint.size, 0);
    assert.ok(cp.note.startsWith(`${NODE_NAME}/c:zero\n0\n${base64Encode(EMPTY_ROOT)}\n\n`));
    assert.ok(!Number.isNaN(Date.parse(cp.publishedAt)));
    await e.close();
  });

  test('publishCheckpoint signs on growth only; checkpoints are mutually consistent', async () => {
    const e = await open(dirs.make());
    const rec = await e.createNamespace('c:grow');
    const verifier = NoteVerifier.fromVkey(rec.logVkey);
    const first = (await e.publishCheckpoint('c:grow'))!;
    assert.equal(first.size, 0);
    assert.equal((await e.checkpointHistory('c:grow')).length, 1, 'no growth, no new checkpoint');
    let n = 0;
    for (const k of [1, 2, 5, 250, 7, 300]) {
      await e.append(
        'c:grow',
        Array.from({ length: k }, () => entry('c:grow', n++)),
      );
      const cp = (await e.publishCheckpoint('c:grow'))!;
      assert.equal(cp.size, n);
      assert.deepEqual(await e.publishCheckpoint('c:grow'), cp, 'unchanged while the tree does not grow');
    }
    const history = await e.checkpointHistory('c:grow');
    assert.deepEqual(
      history.map((c) => c.size),
      [0, 1, 3, 8, 258, 265, 565],
    );
    for (const cp of history) {
      const opened = openCheckpoint(cp.note, verifier);
      assert.equal(opened.checkpoint.size, cp.size);
      assert.deepEqual(opened.checkpoint.root, cp.root);
      assert.deepEqual(cp.root, await e.rootAt('c:grow', cp.size));
    }
    for (let i = 0; i < history.length; i++) {
      for (let j = i; j < history.length; j++) {
        const a = history[i]!;
        const b = history[j]!;
        verifyConsistency(a.size, b.size, await e.consistencyProof('c:grow', a.size, b.size), a.root, b.root);
      }
    }
    assert.deepEqual(
      (await e.checkpointHistory('c:grow', 2)).map((c) => c.size),
      [265, 565],
    );
    await e.close();
  });

  test('publications at once sign a size once: the second sees the first stored', async () => {
    const e = await open(dirs.make());
    await e.createNamespace('c:race');
    await e.append('c:race', [entry('c:race', 0), entry('c:race', 1)]);
    // Each call decides what to sign only after the one before it is stored (else both would
    // sign size 2 and the second store would be refused as a duplicate).
    const [a, b] = await Promise.all([e.publishCheckpoint('c:race'), e.publishCheckpoint('c:race')]);
    assert.equal(a!.size, 2);
    assert.deepEqual(b, a);
    assert.deepEqual(
      (await e.checkpointHistory('c:race')).map((c) => c.size),
      [0, 2],
    );
    await e.close();
  });

  test('the timer publishes for namespaces that grew, and only for those', async () => {
    const e = await open(dirs.make(), { checkpointIntervalMs: 20 });
    await e.createNamespace('c:busy');
    await e.createNamespace('c:idle');
    await e.append('c:busy', [entry('c:busy', 0), entry('c:busy', 1)]);
    const deadline = Date.now() + 5000;
    while (e.latestCheckpoint('c:busy')!.size !== 2 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal(e.latestCheckpoint('c:busy')!.size, 2);
    await new Promise((r) => setTimeout(r, 80));
    assert.deepEqual(
      (await e.checkpointHistory('c:busy')).map((c) => c.size),
      [0, 2],
    );
    assert.deepEqual(
      (await e.checkpointHistory('c:idle')).map((c) => c.size),
      [0],
    );
    await e.close();
  });

  test('history keeps the configured number of newest checkpoints, across reopen', async () => {
    const dir = dirs.make();
    const e = await open(dir, { checkpointRetention: 3 });
    await e.createNamespace('c:ret');
    for (let i = 0; i < 6; i++) {
      await e.append('c:ret', [entry('c:ret', i)]);
      await e.publishCheckpoint('c:ret');
    }
    assert.deepEqual(
      (await e.checkpointHistory('c:ret')).map((c) => c.size),
      [4, 5, 6],
    );
    const latest = e.latestCheckpoint('c:ret');
    await e.close();
    const r = await open(dir, { checkpointRetention: 3 });
    assert.deepEqual(r.latestCheckpoint('c:ret'), latest);
    assert.deepEqual(
      (await r.checkpointHistory('c:ret')).map((c) => c.size),
      [4, 5, 6],
    );
    await r.close();
  });
});
