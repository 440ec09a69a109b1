// TileStore.read(): synchronous computations over tiles, with the tiles only storage has loaded
// (awaited) and the computation run again. Storage here answers when the test says so, so reads
// of two computations interleave while a one-tile cache evicts what each loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemembrancerError } from '@vaultmesh/core';
import type { LogStorage, StoredTile } from '../../src/storage/log-storage.js';
import { TileStore } from '../../src/log/tile-store.js';

/** A level-0 tile whose 32 bytes all hold its index. */
function tileOf(index: number): StoredTile {
  return { width: 1, data: new Uint8Array(32).fill(index) };
}

/** Storage whose tile reads wait in `pending` until the test releases them; counts reads. */
function gatedStorage(): { storage: LogStorage; pending: (() => void)[]; reads: string[] } {
  const pending: (() => void)[] = [];
  const reads: string[] = [];
  const readTile = (_ns: number, level: number, index: number): Promise<StoredTile | undefined> => {
    reads.push(`${level}/${index}`);
    return new Promise((resolve) => pending.push(() => resolve(index < 100 ? tileOf(index) : undefined)));
  };
  return { storage: { readTile } as unknown as LogStorage, pending, reads };
}

/** Releases pending reads, newest first, until every promise given has settled (bounded). */
async function drive(pending: (() => void)[], work: Promise<unknown>[]): Promise<void> {
  let settled = false;
  void Promise.allSettled(work).then(() => (settled = true));
  for (let step = 0; step < 1000 && !settled; step++) {
    await new Promise((resolve) => setImmediate(resolve));
    pending.pop()?.();
  }
  assert.ok(settled, 'the reads settled');
}

test('interleaved computations each see every tile they asked for, though the cache keeps one tile', async () => {
  const { storage, pending, reads } = gatedStorage();
  const tiles = new TileStore(storage, 1);
  const firstBytes = (indices: number[]) => () => indices.map((i) => tiles.tile(1, 0, i)!.data[0]);
  const a = tiles.read(firstBytes([0, 1, 2]));
  const b = tiles.read(firstBytes([5, 6, 7]));
  await drive(pending, [a, b]);
  assert.deepEqual(await a, [0, 1, 2]);
  assert.deepEqual(await b, [5, 6, 7]);
  // One storage read per tile and computation: a retry uses what its earlier attempts loaded.
  assert.equal(reads.length, 6);
});

test('a tile storage does not have reads as undefined; a cached tile is not read again', async () => {
  const { storage, pending, reads } = gatedStorage();
  const tiles = new TileStore(storage, 64);
  const missing = tiles.read(() => tiles.tile(1, 0, 100));
  await drive(pending, [missing]);
  assert.equal(await missing, undefined);
  const loaded = tiles.load(1, 0, 3);
  await drive(pending, [loaded]);
  assert.equal((await loaded)!.data[0], 3);
  assert.equal((await tiles.load(1, 0, 3))!.data[0], 3);
  assert.deepEqual(reads, ['0/100', '0/3']);
});

test('errors of the computation and of storage reject; a tile read outside read() is INTERNAL', async () => {
  const failing = new TileStore(
    { readTile: () => Promise.reject(new Error('disk on fire')) } as unknown as LogStorage,
    4,
  );
  await assert.rejects(failing.load(1, 0, 0), /disk on fire/);
  await assert.rejects(
    failing.read(() => {
      throw new RangeError('bad plan');
    }),
    RangeError,
  );
  assert.throws(
    () => failing.tile(1, 0, 0),
    (e) => isRemembrancerError(e, 'INTERNAL'),
  );
});
