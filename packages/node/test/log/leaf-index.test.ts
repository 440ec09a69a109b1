import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isRemembrancerError, leafHash } from '@vaultmesh/core';
import { LEAF_CHUNK } from '../../src/storage/leaf-runs.js';
import { LOG_DB_FILE } from '../../src/log/open-log-engine.js';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-leaf-index-');
after(() => dirs.cleanup());

async function appendRange(e: Awaited<ReturnType<typeof open>>, ns: string, from: number, to: number): Promise<void> {
  const batch: Uint8Array[] = [];
  for (let i = from; i < to; i++) batch.push(entry(ns, i));
  // Several calls, so the entries span several group commits.
  for (let i = 0; i < batch.length; i += 97) await e.append(ns, batch.slice(i, i + 97));
}

async function leafIndexedSize(dir: string, id: string): Promise<number> {
  const s = new SqliteLogStorage({ path: join(dir, LOG_DB_FILE) });
  try {
    const key = (await s.loadNamespaces()).find((n) => n.id === id)!.key;
    return await s.leafIndexedSize(key);
  } finally {
    await s.close();
  }
}

async function assertAllFound(e: Awaited<ReturnType<typeof open>>, ns: string, size: number): Promise<void> {
  for (let i = 0; i < size; i++) assert.equal(await e.findLeaf(ns, leafHash(entry(ns, i))), i, `${ns} entry ${i}`);
}

test('findLeaf answers the index of every entry of each namespace, and nothing for other hashes', async () => {
  const dir = dirs.make();
  const e = await open(dir);
  try {
    await e.createNamespace('t:a');
    await e.createNamespace('t:b');
    await Promise.all([appendRange(e, 't:a', 0, 600), appendRange(e, 't:b', 0, 40)]);
    await assertAllFound(e, 't:a', 600);
    await assertAllFound(e, 't:b', 40);
    // Another namespace's leaf is not in this one.
    assert.equal(await e.findLeaf('t:b', leafHash(entry('t:a', 5))), undefined);
    // Same index key (first 6 bytes), different hash: the candidate is checked against the tree.
    const near = leafHash(entry('t:a', 5));
    near[31]! ^= 1;
    assert.equal(await e.findLeaf('t:a', near), undefined);
    await assert.rejects(
      () => e.findLeaf('t:a', new Uint8Array(16)),
      (err) => isRemembrancerError(err, 'INVALID_ARGUMENT'),
    );
    await assert.rejects(
      () => e.findLeaf('t:zz', near),
      (err) => isRemembrancerError(err, 'NAMESPACE_NOT_FOUND'),
    );
  } finally {
    await e.close();
  }
});

test('an entry stored several times is found at its first index', async () => {
  const e = await open(dirs.make());
  try {
    await e.createNamespace('t:dup');
    const x = entry('t:dup', 0);
    await e.append('t:dup', [entry('t:dup', 1), x]);
    for (let i = 0; i < 20; i++) await e.append('t:dup', [x, entry('t:dup', 100 + i)]);
    assert.equal(await e.findLeaf('t:dup', leafHash(x)), 1);
  } finally {
    await e.close();
  }
});

test('turned off, the search says so; turned on again, it finds every entry', async () => {
  const dir = dirs.make();
  let e = await open(dir);
  await e.createNamespace('t:gap');
  await appendRange(e, 't:gap', 0, 100);
  await e.close();
  assert.equal(await leafIndexedSize(dir, 't:gap'), 0); // no chunk is complete: the tiles answer

  e = await open(dir, { leafIndex: false });
  await appendRange(e, 't:gap', 100, 700); // crosses tile boundaries at 256 and 512
  await assert.rejects(
    () => e.findLeaf('t:gap', leafHash(entry('t:gap', 1))),
    (err) => isRemembrancerError(err, 'NOT_FOUND') && /leaf-hash index/.test(err.message),
  );
  await e.close();
  assert.equal(await leafIndexedSize(dir, 't:gap'), 0); // no chunk is complete: the tiles answer

  e = await open(dir);
  try {
    await assertAllFound(e, 't:gap', 700);
    await appendRange(e, 't:gap', 700, 750);
    await assertAllFound(e, 't:gap', 750);
  } finally {
    await e.close();
  }
  assert.equal(await leafIndexedSize(dir, 't:gap'), 0);
});

test('a log stored before the index existed (schema 2) is migrated and back-filled on open', async () => {
  const dir = dirs.make();
  let e = await open(dir);
  await e.createNamespace('t:old');
  await appendBig(e, 't:old', 0, LEAF_CHUNK + 300);
  await e.close();
  // Undo migration 3: what a database of the previous release holds.
  const db = new Database(join(dir, LOG_DB_FILE));
  db.exec('DROP TABLE leaf_runs; ALTER TABLE tree_state DROP COLUMN leaf_indexed;');
  db.pragma('user_version = 2');
  db.close();

  e = await open(dir);
  try {
    for (const i of [0, 299, LEAF_CHUNK - 1, LEAF_CHUNK + 299]) {
      assert.equal(await e.findLeaf('t:old', leafHash(entry('t:old', i))), i);
    }
  } finally {
    await e.close();
  }
  assert.equal(await leafIndexedSize(dir, 't:old'), LEAF_CHUNK);
});

test('leafIndex must be a boolean', async () => {
  await assert.rejects(
    () => open(dirs.make(), { leafIndex: 'yes' as unknown as boolean }),
    (err) => isRemembrancerError(err, 'CONFIG_INVALID'),
  );
});

test('a log of several chunks: runs for the complete ones, the tiles for the rest; a kill-free reopen keeps them', async () => {
  const dir = dirs.make();
  const size = 2 * LEAF_CHUNK + 3000;
  let e = await open(dir);
  try {
    await e.createNamespace('t:big');
    await appendBig(e, 't:big', 0, size);
    // A copy of entry 5 in the tail: the first index answers.
    await e.append('t:big', [entry('t:big', 5)]);
    for (const i of [0, 5, 255, 256, LEAF_CHUNK - 1, LEAF_CHUNK, LEAF_CHUNK + 4321, 2 * LEAF_CHUNK, size - 1]) {
      assert.equal(await e.findLeaf('t:big', leafHash(entry('t:big', i))), i, `entry ${i}`);
    }
    const near = leafHash(entry('t:big', LEAF_CHUNK + 10));
    near[31]! ^= 1;
    assert.equal(await e.findLeaf('t:big', near), undefined);
  } finally {
    await e.close();
  }
  assert.equal(await leafIndexedSize(dir, 't:big'), 2 * LEAF_CHUNK);
  e = await open(dir);
  try {
    assert.equal(await e.findLeaf('t:big', leafHash(entry('t:big', LEAF_CHUNK + 17))), LEAF_CHUNK + 17);
  } finally {
    await e.close();
  }
});

test('runs missing when the index was off are written on open, a chunk per transaction', async () => {
  const dir = dirs.make();
  let e = await open(dir, { leafIndex: false });
  await e.createNamespace('t:late');
  await appendBig(e, 't:late', 0, 2 * LEAF_CHUNK + 10);
  await e.close();
  assert.equal(await leafIndexedSize(dir, 't:late'), 0);
  const logged: Array<Record<string, unknown>> = [];
  e = await open(dir, { logger: { info: (o) => void logged.push(o), warn: () => {}, error: () => {} } });
  try {
    assert.deepEqual(
      logged.filter((o) => o['namespace'] === 't:late').map(({ from, to }) => ({ from, to })),
      [{ from: 0, to: 2 * LEAF_CHUNK }],
    );
    for (const i of [3, LEAF_CHUNK + 3, 2 * LEAF_CHUNK + 3]) {
      assert.equal(await e.findLeaf('t:late', leafHash(entry('t:late', i))), i);
    }
  } finally {
    await e.close();
  }
  assert.equal(await leafIndexedSize(dir, 't:late'), 2 * LEAF_CHUNK);
});

/** Appends entries [from, to) in calls of 4096, a few in flight (fast: the big tests need chunks). */
async function appendBig(e: Awaited<ReturnType<typeof open>>, ns: string, from: number, to: number): Promise<void> {
  let next = from;
  const lane = async () => {
    while (next < to) {
      const start = next;
      const n = Math.min(4096, to - start);
      next += n;
      await e.append(
        ns,
        Array.from({ length: n }, (_, k) => entry(ns, start + k)),
      );
    }
  };
  await Promise.all([lane(), lane(), lane()]);
}
