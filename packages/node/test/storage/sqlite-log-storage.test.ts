import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { isRemembrancerError } from '@vaultmesh/core';
import {
  SCHEMA_VERSION,
  SqliteLogStorage,
  type NamespaceCommit,
  type StoredCheckpoint,
} from '../../src/storage/index.js';
import { APPLICATION_ID, MIGRATIONS } from '../../src/storage/sqlite/schema.js';
import { LEAF_CHUNK } from '../../src/storage/leaf-runs.js';

const root = mkdtempSync(join(tmpdir(), 'vm-storage-'));
after(() => rmSync(root, { recursive: true, force: true }));
let counter = 0;
const freshPath = (): string => join(root, `db-${++counter}`, 'log.sqlite');

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const hash = (fill: number): Uint8Array => new Uint8Array(32).fill(fill);
const cp = (size: number, fill = size): StoredCheckpoint => ({
  size,
  root: hash(fill),
  note: `origin\n${size}\nroot\n\n— sig\n`,
  publishedAt: new Date(1_700_000_000_000 + size).toISOString(),
});
const ns = (id: string) => ({
  id,
  origin: `node/${id}`,
  logVkey: `node/${id}+01234567+AQ==`,
  createdAt: '2026-01-01T00:00:00.000Z',
  policy: '{"a":1}',
});

/** Leaf hash of index i (no real tree: storage does not check tiles against entries). */
function leafOf(i: number): Uint8Array {
  const h = new Uint8Array(32).fill(0x5a);
  h[0] = i & 0xff;
  h[1] = (i >>> 8) & 0xff;
  h[2] = i >>> 16;
  return h;
}

/** One whole chunk of entries with its 256 full level-0 tiles, whose base rows are leafOf(i). */
function chunkCommit(key: number, chunk: number, indexLeaves: boolean): NamespaceCommit {
  const start = chunk * LEAF_CHUNK;
  const tiles = Array.from({ length: 256 }, (_, t) => {
    const data = new Uint8Array(511 * 32);
    for (let i = 0; i < 256; i++) data.set(leafOf(start + t * 256 + i), i * 32);
    return { level: 0, index: chunk * 256 + t, width: 256, data };
  });
  return {
    namespace: key,
    previousSize: start,
    entries: Array.from({ length: LEAF_CHUNK }, (_, i) => bytes(i & 0xff, i >>> 8)),
    tiles,
    tree: { size: start + LEAF_CHUNK, compactRange: [hash(chunk + 1)] },
    ...(indexLeaves ? { indexLeaves: true } : {}),
  };
}

function commitOf(key: number, previousSize: number, n: number, fill = 1): NamespaceCommit {
  const entries = Array.from({ length: n }, (_, i) => bytes(fill, previousSize + i));
  return {
    namespace: key,
    previousSize,
    entries,
    tiles: [{ level: 0, index: 0, width: previousSize + n, data: new Uint8Array((previousSize + n) * 32).fill(fill) }],
    tree: { size: previousSize + n, compactRange: Array.from({ length: 1 }, () => hash(fill)) },
  };
}

describe('SqliteLogStorage', () => {
  test('creates the schema with WAL, FULL sync and a versioned, marked file', async () => {
    const path = freshPath();
    const s = new SqliteLogStorage({ path });
    await s.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), 0x564d5231);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
    assert.deepEqual(tables, ['checkpoints', 'entries', 'leaf_runs', 'namespaces', 'tiles', 'tree_state']);
    db.close();
  });

  test('refuses foreign databases and newer schema versions', async () => {
    const foreign = freshPath();
    await new SqliteLogStorage({ path: foreign }).close();
    const db = new Database(foreign);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(
      () => new SqliteLogStorage({ path: foreign }),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /newer/.test(e.message),
    );

    const other = freshPath();
    await new SqliteLogStorage({ path: other }).close();
    const db2 = new Database(join(other, '..', 'x.sqlite'));
    db2.exec('CREATE TABLE t (x)');
    db2.close();
    assert.throws(
      () => new SqliteLogStorage({ path: join(other, '..', 'x.sqlite') }),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
  });

  test('rejects an unknown synchronous mode', () => {
    assert.throws(
      () => new SqliteLogStorage({ path: freshPath(), synchronous: 'OFF' as 'FULL' }),
      (e) => isRemembrancerError(e, 'CONFIG_INVALID'),
    );
  });

  test('namespaces, tree state and the initial checkpoint round-trip across reopen', async () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path, synchronous: 'NORMAL' });
    const a = await s.createNamespace(ns('dao:a'), cp(0));
    const b = await s.createNamespace(ns('dao:b'), cp(0, 9));
    assert.notEqual(a.key, b.key);
    await assert.rejects(
      () => s.createNamespace(ns('dao:a'), cp(0)),
      (e) => isRemembrancerError(e, 'NAMESPACE_EXISTS'),
    );
    await s.close();
    s = new SqliteLogStorage({ path });
    assert.deepEqual(await s.loadNamespaces(), [
      { key: a.key, ...ns('dao:a') },
      { key: b.key, ...ns('dao:b') },
    ]);
    assert.deepEqual(await s.loadTreeState(a.key), { size: 0, compactRange: [] });
    assert.equal(await s.entryCount(a.key), 0);
    assert.deepEqual(await s.latestCheckpoint(b.key), cp(0, 9));
    await s.close();
  });

  test('commitBatch writes entries, tiles and tree states of several namespaces atomically', async () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path });
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    await s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    await s.commitBatch([commitOf(a, 3, 2, 3)]);
    await s.close();
    s = new SqliteLogStorage({ path });
    assert.equal(await s.entryCount(a), 5);
    assert.equal(await s.entryCount(b), 2);
    assert.deepEqual([...(await s.readEntry(a, 4))!], [3, 4]);
    assert.equal(await s.readEntry(a, 5), undefined);
    assert.deepEqual(
      (await s.readEntries(a, 1, 4)).map((e) => [...e]),
      [
        [1, 1],
        [1, 2],
        [3, 3],
      ],
    );
    assert.deepEqual((await s.readEntries(a, 4, 10)).length, 1);
    const t = (await s.readTile(a, 0, 0))!;
    assert.equal(t.width, 5);
    assert.deepEqual(new Uint8Array(t.data), new Uint8Array(5 * 32).fill(3));
    assert.equal(await s.readTile(a, 1, 0), undefined);
    assert.equal((await s.loadTreeState(a)).size, 5);
    assert.deepEqual([...(await s.loadTreeState(b)).compactRange[0]!], [...hash(2)]);
    await s.close();
  });

  test('entry bytes per namespace are kept by commitBatch and survive reopen', async () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path });
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    assert.equal(await s.entryBytes(a), 0);
    await s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    await s.commitBatch([{ ...commitOf(a, 3, 1, 3), entries: [new Uint8Array(1000)] }]);
    assert.equal(await s.entryBytes(a), 3 * 2 + 1000);
    assert.equal(await s.entryBytes(b), 2 * 2);
    await s.close();
    s = new SqliteLogStorage({ path });
    assert.equal(await s.entryBytes(a), 1006);
    assert.equal(await s.entryBytes(b), 4);
    await assert.rejects(
      () => s.entryBytes(999),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    await s.close();
  });

  test('migration 2 back-fills the entry byte totals of a version-1 database', async () => {
    const path = freshPath();
    mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.exec(MIGRATIONS[0]!);
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma('user_version = 1');
    const insertNs = db.prepare(
      `INSERT INTO namespaces (id, origin, log_vkey, created_at, policy) VALUES (?, 'o', 'v', 't', '{}')`,
    );
    const a = Number(insertNs.run('dao:a').lastInsertRowid);
    const b = Number(insertNs.run('dao:b').lastInsertRowid);
    const insertEntry = db.prepare('INSERT INTO entries (ns, idx, data) VALUES (?, ?, ?)');
    for (let i = 0; i < 5; i++) insertEntry.run(a, i, new Uint8Array(10 + i));
    db.prepare('INSERT INTO tree_state (ns, size, compact_range) VALUES (?, ?, ?)').run(a, 5, new Uint8Array(64));
    db.prepare('INSERT INTO tree_state (ns, size, compact_range) VALUES (?, 0, ?)').run(b, new Uint8Array(0));
    db.close();

    const s = new SqliteLogStorage({ path });
    assert.equal(await s.entryBytes(a), 10 + 11 + 12 + 13 + 14);
    assert.equal(await s.entryBytes(b), 0);
    assert.equal((await s.loadTreeState(a)).size, 5);
    await s.commitBatch([
      {
        namespace: b,
        previousSize: 0,
        entries: [new Uint8Array(7)],
        tiles: [],
        tree: { size: 1, compactRange: [hash(1)] },
      },
    ]);
    assert.equal(await s.entryBytes(b), 7);
    await s.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  for (const stage of ['entries', 'tiles', 'tree'] as const) {
    test(`a failure after the ${stage} stage leaves no partial state`, async () => {
      let armed = false;
      const s = new SqliteLogStorage({
        path: freshPath(),
        faultInjector: (at) => {
          if (armed && at === stage) throw new Error(`injected at ${at}`);
        },
      });
      const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
      await s.commitBatch([commitOf(a, 0, 2, 1)]);
      armed = true;
      await assert.rejects(
        () => s.commitBatch([commitOf(a, 2, 3, 7)]),
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

  test('checkpoint history keeps the newest `retain`, oldest first', async () => {
    const s = new SqliteLogStorage({ path: freshPath() });
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
    // A duplicate size fails the whole transaction: b's checkpoint is not stored either.
    await assert.rejects(
      () =>
        s.appendCheckpoints(
          [
            { ns: b, checkpoint: cp(4) },
            { ns: a, checkpoint: cp(10) },
          ],
          4,
        ),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    assert.equal((await s.latestCheckpoint(b))!.size, 3);
    await s.close();
  });

  test('every call after close fails with SHUTTING_DOWN', async () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    await s.close();
    await s.close();
    await assert.rejects(
      () => s.loadNamespaces(),
      (e) => isRemembrancerError(e, 'SHUTTING_DOWN'),
    );
    await assert.rejects(
      () => s.commitBatch([]),
      (e) => isRemembrancerError(e, 'SHUTTING_DOWN'),
    );
  });
  test('a commit that completes a chunk writes its leaf run in the same transaction; a failure writes none', async () => {
    let armed = false;
    const s = new SqliteLogStorage({
      path: freshPath(),
      faultInjector: (at) => {
        if (armed && at === 'leaves') throw new Error('injected at leaves');
      },
    });
    const a = (await s.createNamespace(ns('dao:a'), cp(0))).key;
    armed = true;
    await assert.rejects(
      () => s.commitBatch([chunkCommit(a, 0, true)]),
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
    await assert.rejects(
      () => s.leafCandidates(a, new Uint8Array(31), 0),
      (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );
    await s.close();
  });

  test('runs are written only in chunk order: a gap is refused, indexChunk closes it', async () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    const b = (await s.createNamespace(ns('dao:b'), cp(0))).key;
    await s.commitBatch([chunkCommit(b, 0, false)]);
    assert.equal(await s.leafIndexedSize(b), 0);
    await assert.rejects(
      () => s.commitBatch([chunkCommit(b, 1, true)]),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /leaf index/.test(e.message),
    );
    assert.equal(await s.entryCount(b), LEAF_CHUNK);
    await assert.rejects(
      () => s.indexChunk(b, 1),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    await s.indexChunk(b, 0);
    assert.equal(await s.leafIndexedSize(b), LEAF_CHUNK);
    await assert.rejects(
      () => s.indexChunk(b, 0),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    await s.commitBatch([chunkCommit(b, 1, true)]);
    assert.equal(await s.leafIndexedSize(b), 2 * LEAF_CHUNK);
    // Not stored yet: refused.
    await assert.rejects(
      () => s.indexChunk(b, 2),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    assert.deepEqual(await s.leafCandidates(b, leafOf(LEAF_CHUNK + 7), 0), { chunk: 1, indices: [LEAF_CHUNK + 7] });
    await s.close();
  });
});
