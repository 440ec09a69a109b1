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

/** A leaf hash per index whose index key (first 6 bytes) differs by index and fill. */
function leafOf(index: number, fill: number): Uint8Array {
  const h = hash(fill);
  h[1] = index >>> 8;
  h[2] = index & 0xff;
  return h;
}

function packed(hashes: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(hashes.length * 32);
  hashes.forEach((h, i) => out.set(h, i * 32));
  return out;
}

function commitOf(key: number, previousSize: number, n: number, fill = 1): NamespaceCommit {
  const entries = Array.from({ length: n }, (_, i) => bytes(fill, previousSize + i));
  return {
    leafHashes: packed(Array.from({ length: n }, (_, i) => leafOf(previousSize + i, fill))),
    namespace: key,
    previousSize,
    entries,
    tiles: [{ level: 0, index: 0, width: previousSize + n, data: new Uint8Array((previousSize + n) * 32).fill(fill) }],
    tree: { size: previousSize + n, compactRange: Array.from({ length: 1 }, () => hash(fill)) },
  };
}

describe('SqliteLogStorage', () => {
  test('creates the schema with WAL, FULL sync and a versioned, marked file', () => {
    const path = freshPath();
    const s = new SqliteLogStorage({ path });
    s.close();
    const db = new Database(path, { readonly: true });
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.pragma('application_id', { simple: true }), 0x564d5231);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    const tables = db.prepare(`SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name`).pluck().all();
    assert.deepEqual(tables, ['checkpoints', 'entries', 'leaf_index', 'namespaces', 'tiles', 'tree_state']);
    db.close();
  });

  test('refuses foreign databases and newer schema versions', () => {
    const foreign = freshPath();
    new SqliteLogStorage({ path: foreign }).close();
    const db = new Database(foreign);
    db.pragma('user_version = 99');
    db.close();
    assert.throws(
      () => new SqliteLogStorage({ path: foreign }),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /newer/.test(e.message),
    );

    const other = freshPath();
    new SqliteLogStorage({ path: other }).close();
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

  test('namespaces, tree state and the initial checkpoint round-trip across reopen', () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path, synchronous: 'NORMAL' });
    const a = s.createNamespace(ns('dao:a'), cp(0));
    const b = s.createNamespace(ns('dao:b'), cp(0, 9));
    assert.notEqual(a.key, b.key);
    assert.throws(
      () => s.createNamespace(ns('dao:a'), cp(0)),
      (e) => isRemembrancerError(e, 'NAMESPACE_EXISTS'),
    );
    s.close();
    s = new SqliteLogStorage({ path });
    assert.deepEqual(s.loadNamespaces(), [
      { key: a.key, ...ns('dao:a') },
      { key: b.key, ...ns('dao:b') },
    ]);
    assert.deepEqual(s.loadTreeState(a.key), { size: 0, compactRange: [] });
    assert.equal(s.entryCount(a.key), 0);
    assert.deepEqual(s.latestCheckpoint(b.key), cp(0, 9));
    s.close();
  });

  test('commitBatch writes entries, tiles and tree states of several namespaces atomically', () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const b = s.createNamespace(ns('dao:b'), cp(0)).key;
    s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    s.commitBatch([commitOf(a, 3, 2, 3)]);
    s.close();
    s = new SqliteLogStorage({ path });
    assert.equal(s.entryCount(a), 5);
    assert.equal(s.entryCount(b), 2);
    assert.deepEqual([...s.readEntry(a, 4)!], [3, 4]);
    assert.equal(s.readEntry(a, 5), undefined);
    assert.deepEqual(
      s.readEntries(a, 1, 4).map((e) => [...e]),
      [
        [1, 1],
        [1, 2],
        [3, 3],
      ],
    );
    assert.deepEqual(s.readEntries(a, 4, 10).length, 1);
    const t = s.readTile(a, 0, 0)!;
    assert.equal(t.width, 5);
    assert.deepEqual(new Uint8Array(t.data), new Uint8Array(5 * 32).fill(3));
    assert.equal(s.readTile(a, 1, 0), undefined);
    assert.equal(s.loadTreeState(a).size, 5);
    assert.deepEqual([...s.loadTreeState(b).compactRange[0]!], [...hash(2)]);
    s.close();
  });

  test('entry bytes per namespace are kept by commitBatch and survive reopen', () => {
    const path = freshPath();
    let s = new SqliteLogStorage({ path });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const b = s.createNamespace(ns('dao:b'), cp(0)).key;
    assert.equal(s.entryBytes(a), 0);
    s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    s.commitBatch([{ ...commitOf(a, 3, 1, 3), entries: [new Uint8Array(1000)] }]);
    assert.equal(s.entryBytes(a), 3 * 2 + 1000);
    assert.equal(s.entryBytes(b), 2 * 2);
    s.close();
    s = new SqliteLogStorage({ path });
    assert.equal(s.entryBytes(a), 1006);
    assert.equal(s.entryBytes(b), 4);
    assert.throws(
      () => s.entryBytes(999),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    s.close();
  });

  test('migration 2 back-fills the entry byte totals of a version-1 database', () => {
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
    assert.equal(s.entryBytes(a), 10 + 11 + 12 + 13 + 14);
    assert.equal(s.entryBytes(b), 0);
    assert.equal(s.loadTreeState(a).size, 5);
    s.commitBatch([
      {
        namespace: b,
        previousSize: 0,
        entries: [new Uint8Array(7)],
        tiles: [],
        tree: { size: 1, compactRange: [hash(1)] },
      },
    ]);
    assert.equal(s.entryBytes(b), 7);
    s.close();
    const check = new Database(path, { readonly: true });
    assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    check.close();
  });

  test('a stale previousSize (second writer) fails the whole batch', () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const b = s.createNamespace(ns('dao:b'), cp(0)).key;
    s.commitBatch([commitOf(a, 0, 2)]);
    assert.throws(
      () =>
        s.commitBatch([
          commitOf(b, 0, 1),
          { ...commitOf(a, 0, 1), previousSize: 1, entries: [bytes(9)], tree: { size: 2, compactRange: [hash(1)] } },
        ]),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    assert.equal(s.entryCount(b), 0);
    assert.equal(s.loadTreeState(b).size, 0);
    assert.equal(s.entryBytes(b), 0);
    assert.equal(s.entryCount(a), 2);
    assert.equal(s.entryBytes(a), 4);
    s.close();
  });

  for (const stage of ['entries', 'tiles', 'tree', 'leaves'] as const) {
    test(`a failure after the ${stage} stage leaves no partial state`, () => {
      let armed = false;
      const s = new SqliteLogStorage({
        path: freshPath(),
        faultInjector: (at) => {
          if (armed && at === stage) throw new Error(`injected at ${at}`);
        },
      });
      const a = s.createNamespace(ns('dao:a'), cp(0)).key;
      s.commitBatch([commitOf(a, 0, 2, 1)]);
      armed = true;
      assert.throws(
        () => s.commitBatch([commitOf(a, 2, 3, 7)]),
        (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /injected/.test(e.message),
      );
      assert.equal(s.entryCount(a), 2);
      assert.equal(s.readEntry(a, 2), undefined);
      assert.equal(s.readTile(a, 0, 0)!.width, 2);
      assert.deepEqual(s.loadTreeState(a), { size: 2, compactRange: [hash(1)] });
      assert.equal(s.entryBytes(a), 4);
      assert.equal(s.leafIndexedSize(a), 2);
      assert.deepEqual(s.leafCandidates(a, leafOf(2, 7), -1, 8), []);
      armed = false;
      s.commitBatch([commitOf(a, 2, 3, 7)]);
      assert.equal(s.entryCount(a), 5);
      assert.equal(s.entryBytes(a), 10);
      assert.equal(s.leafIndexedSize(a), 5);
      assert.deepEqual(s.leafCandidates(a, leafOf(2, 7), -1, 8), [2]);
      s.close();
    });
  }

  test('checkpoint history keeps the newest `retain`, oldest first', () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const b = s.createNamespace(ns('dao:b'), cp(0)).key;
    for (let size = 1; size <= 9; size++) s.appendCheckpoints([{ ns: a, checkpoint: cp(size) }], 4);
    s.appendCheckpoints(
      [
        { ns: a, checkpoint: cp(10) },
        { ns: b, checkpoint: cp(3) },
      ],
      4,
    );
    s.appendCheckpoints([], 4);
    assert.deepEqual(
      s.checkpointHistory(a, 100).map((c) => c.size),
      [7, 8, 9, 10],
    );
    assert.deepEqual(
      s.checkpointHistory(a, 2).map((c) => c.size),
      [9, 10],
    );
    assert.deepEqual(s.latestCheckpoint(a), cp(10));
    assert.deepEqual(
      s.checkpointHistory(b, 100).map((c) => c.size),
      [0, 3],
    );
    // A duplicate size fails the whole transaction: b's checkpoint is not stored either.
    assert.throws(
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
    assert.equal(s.latestCheckpoint(b)!.size, 3);
    s.close();
  });

  test('every call after close fails with SHUTTING_DOWN', () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    s.close();
    s.close();
    assert.throws(
      () => s.loadNamespaces(),
      (e) => isRemembrancerError(e, 'SHUTTING_DOWN'),
    );
    assert.throws(
      () => s.commitBatch([]),
      (e) => isRemembrancerError(e, 'SHUTTING_DOWN'),
    );
  });
  test('the leaf index is written with its commit, pages candidates, and refuses a gap', () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const b = s.createNamespace(ns('dao:b'), cp(0)).key;
    assert.equal(s.leafIndexedSize(a), 0);
    s.commitBatch([commitOf(a, 0, 3, 1), commitOf(b, 0, 2, 2)]);
    assert.equal(s.leafIndexedSize(a), 3);
    assert.equal(s.leafIndexedSize(b), 2);
    assert.deepEqual(s.leafCandidates(a, leafOf(1, 1), -1, 8), [1]);
    // Per namespace: b's hashes are not candidates in a.
    assert.deepEqual(s.leafCandidates(a, leafOf(1, 2), -1, 8), []);
    // Keys are the first 6 bytes: a hash differing only after them is a candidate, checked by the reader.
    const sameKey = leafOf(1, 1);
    sameKey[31]! ^= 0xff;
    assert.deepEqual(s.leafCandidates(a, sameKey, -1, 8), [1]);
    assert.throws(
      () => s.leafCandidates(a, new Uint8Array(31), -1, 8),
      (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );

    // Duplicates (one key, many indices) come a page at a time, ascending.
    const dup = leafOf(0, 9);
    const c = commitOf(a, 3, 5, 1);
    c.leafHashes = packed(Array.from({ length: 5 }, () => dup));
    s.commitBatch([c]);
    assert.deepEqual(s.leafCandidates(a, dup, -1, 2), [3, 4]);
    assert.deepEqual(s.leafCandidates(a, dup, 4, 2), [5, 6]);
    assert.deepEqual(s.leafCandidates(a, dup, 6, 2), [7]);

    // A commit without leaf hashes leaves the index behind; one with them then refuses the gap,
    // and stores nothing.
    const { leafHashes: _skipped, ...unindexed } = commitOf(a, 8, 2, 1);
    s.commitBatch([unindexed]);
    assert.equal(s.leafIndexedSize(a), 8);
    assert.throws(
      () => s.commitBatch([commitOf(a, 10, 1, 1)]),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE') && /leaf index/.test(e.message),
    );
    assert.equal(s.entryCount(a), 10);
    // The back-fill closes the gap, and only from where the index ends, below the stored size.
    assert.throws(
      () => s.indexLeaves(a, 9, packed([leafOf(9, 1)])),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    assert.throws(
      () => s.indexLeaves(a, 8, packed([leafOf(8, 1), leafOf(9, 1), leafOf(10, 1)])),
      (e) => isRemembrancerError(e, 'STORAGE_FAILURE'),
    );
    assert.equal(s.leafIndexedSize(a), 8);
    s.indexLeaves(a, 8, packed([leafOf(8, 1), leafOf(9, 1)]));
    assert.equal(s.leafIndexedSize(a), 10);
    s.commitBatch([commitOf(a, 10, 1, 1)]);
    assert.deepEqual(s.leafCandidates(a, leafOf(9, 1), -1, 8), [9]);
    assert.deepEqual(s.leafCandidates(a, leafOf(10, 1), -1, 8), [10]);
    s.close();
  });

  test('a large commit indexes every leaf (multi-row inserts and the remainder)', () => {
    const s = new SqliteLogStorage({ path: freshPath() });
    const a = s.createNamespace(ns('dao:a'), cp(0)).key;
    const n = 300; // 2 × 128 rows per statement + 44 single rows
    const c = commitOf(a, 0, n, 3);
    c.tiles = [{ level: 0, index: 0, width: 256, data: new Uint8Array(256 * 32) }];
    s.commitBatch([c]);
    for (let i = 0; i < n; i++) assert.deepEqual(s.leafCandidates(a, leafOf(i, 3), -1, 8), [i], `leaf ${i}`);
    s.close();
  });
});
