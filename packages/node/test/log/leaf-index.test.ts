import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { isRemembrancerError, leafHash } from '@vaultmesh/core';
import { backfillLeafIndex } from '../../src/log/leaf-index-backfill.js';
import { silentLogger } from '../../src/log/logger.js';
import type { NamespaceState } from '../../src/log/namespace-state.js';
import { LOG_DB_FILE } from '../../src/log/open-log-engine.js';
import { SqliteLogStorage } from '../../src/storage/index.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-leaf-index-');
after(() => dirs.cleanup());

async function appendRange(e: ReturnType<typeof open>, ns: string, from: number, to: number): Promise<void> {
  const batch: Uint8Array[] = [];
  for (let i = from; i < to; i++) batch.push(entry(ns, i));
  // Several calls, so the entries span several group commits.
  for (let i = 0; i < batch.length; i += 97) await e.append(ns, batch.slice(i, i + 97));
}

function leafIndexedSize(dir: string, id: string): number {
  const s = new SqliteLogStorage({ path: join(dir, LOG_DB_FILE) });
  try {
    const key = s.loadNamespaces().find((n) => n.id === id)!.key;
    return s.leafIndexedSize(key);
  } finally {
    s.close();
  }
}

function assertAllFound(e: ReturnType<typeof open>, ns: string, size: number): void {
  for (let i = 0; i < size; i++) assert.equal(e.findLeaf(ns, leafHash(entry(ns, i))), i, `${ns} entry ${i}`);
}

test('findLeaf answers the index of every entry of each namespace, and nothing for other hashes', async () => {
  const dir = dirs.make();
  const e = open(dir);
  try {
    e.createNamespace('t:a');
    e.createNamespace('t:b');
    await Promise.all([appendRange(e, 't:a', 0, 600), appendRange(e, 't:b', 0, 40)]);
    assertAllFound(e, 't:a', 600);
    assertAllFound(e, 't:b', 40);
    // Another namespace's leaf is not in this one.
    assert.equal(e.findLeaf('t:b', leafHash(entry('t:a', 5))), undefined);
    // Same index key (first 6 bytes), different hash: the candidate is checked against the tree.
    const near = leafHash(entry('t:a', 5));
    near[31]! ^= 1;
    assert.equal(e.findLeaf('t:a', near), undefined);
    assert.throws(
      () => e.findLeaf('t:a', new Uint8Array(16)),
      (err) => isRemembrancerError(err, 'INVALID_ARGUMENT'),
    );
    assert.throws(
      () => e.findLeaf('t:zz', near),
      (err) => isRemembrancerError(err, 'NAMESPACE_NOT_FOUND'),
    );
  } finally {
    await e.close();
  }
});

test('an entry stored several times is found at its first index', async () => {
  const e = open(dirs.make());
  try {
    e.createNamespace('t:dup');
    const x = entry('t:dup', 0);
    await e.append('t:dup', [entry('t:dup', 1), x]);
    for (let i = 0; i < 20; i++) await e.append('t:dup', [x, entry('t:dup', 100 + i)]);
    assert.equal(e.findLeaf('t:dup', leafHash(x)), 1);
  } finally {
    await e.close();
  }
});

test('turned off, the index is not written and the search says so; turned on, the gap is back-filled on open', async () => {
  const dir = dirs.make();
  let e = open(dir);
  e.createNamespace('t:gap');
  await appendRange(e, 't:gap', 0, 100);
  await e.close();
  assert.equal(leafIndexedSize(dir, 't:gap'), 100);

  e = open(dir, { leafIndex: false });
  await appendRange(e, 't:gap', 100, 700); // crosses tile boundaries at 256 and 512
  assert.throws(
    () => e.findLeaf('t:gap', leafHash(entry('t:gap', 1))),
    (err) => isRemembrancerError(err, 'NOT_FOUND') && /leaf-hash index/.test(err.message),
  );
  await e.close();
  assert.equal(leafIndexedSize(dir, 't:gap'), 100);

  e = open(dir);
  try {
    assertAllFound(e, 't:gap', 700);
    await appendRange(e, 't:gap', 700, 750);
    assertAllFound(e, 't:gap', 750);
  } finally {
    await e.close();
  }
  assert.equal(leafIndexedSize(dir, 't:gap'), 750);
});

test('a log stored before the index existed (schema 2) is migrated and back-filled on open', async () => {
  const dir = dirs.make();
  let e = open(dir);
  e.createNamespace('t:old');
  await appendRange(e, 't:old', 0, 300);
  await e.close();
  // Undo migration 3: what a database of the previous release holds.
  const db = new Database(join(dir, LOG_DB_FILE));
  db.exec('DROP TABLE leaf_index; ALTER TABLE tree_state DROP COLUMN leaf_indexed;');
  db.pragma('user_version = 2');
  db.close();

  e = open(dir);
  try {
    assertAllFound(e, 't:old', 300);
  } finally {
    await e.close();
  }
  assert.equal(leafIndexedSize(dir, 't:old'), 300);
});

test('leafIndex must be a boolean', () => {
  assert.throws(
    () => open(dirs.make(), { leafIndex: 'yes' as unknown as boolean }),
    (err) => isRemembrancerError(err, 'CONFIG_INVALID'),
  );
});

test('the back-fill commits a chunk at a time from where the stored index ends', async () => {
  const dir = dirs.make();
  const e = open(dir, { leafIndex: false });
  e.createNamespace('t:chunks');
  await appendRange(e, 't:chunks', 0, 700);
  await e.close();
  const storage = new SqliteLogStorage({ path: join(dir, LOG_DB_FILE) });
  try {
    const key = storage.loadNamespaces()[0]!.key;
    // The part of the engine's namespace state the back-fill reads.
    const st = { key, record: { id: 't:chunks' }, range: { size: 700 } } as unknown as NamespaceState;
    const logged: Array<Record<string, unknown>> = [];
    const logger = { ...silentLogger, info: (o: Record<string, unknown>) => void logged.push(o) };
    let calls = 0;
    const counting = new Proxy(storage, {
      get: (target, prop) =>
        prop === 'indexLeaves'
          ? (...args: Parameters<SqliteLogStorage['indexLeaves']>) => {
              calls++;
              return target.indexLeaves(...args);
            }
          : (Reflect.get(target, prop) as unknown),
    });
    assert.equal(backfillLeafIndex(st, counting, logger, 256), 700);
    assert.equal(calls, 3); // [0, 256), [256, 512), [512, 700)
    assert.equal(storage.leafIndexedSize(key), 700);
    assert.deepEqual(logged[0], { ...logged[0], namespace: 't:chunks', from: 0, to: 700 });
    for (const i of [0, 255, 256, 511, 512, 699]) {
      assert.deepEqual(storage.leafCandidates(key, leafHash(entry('t:chunks', i)), -1, 8), [i]);
    }
    assert.equal(backfillLeafIndex(st, storage, logger, 256), 0);
    const behind = { ...st, range: { size: 600 } } as unknown as NamespaceState;
    assert.throws(
      () => backfillLeafIndex(behind, storage, logger),
      (err) => isRemembrancerError(err, 'STORAGE_FAILURE'),
    );
  } finally {
    storage.close();
  }
});
