import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MemoryTree,
  inclusionProofPlan,
  leafHash,
  rangeDecomposition,
  tileWidthAt,
  verifyInclusion,
  type SubtreeId,
} from '@vaultmesh/core';
import type { LogStorage, StoredTile } from '../../src/storage/log-storage.js';
import { inclusionProofFromTiles, type EdgeFolds } from '../../src/log/proof-builder.js';
import { rowOffset } from '../../src/log/stored-tile-layout.js';
import { TileStore } from '../../src/log/tile-store.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-paths-');
after(() => dirs.cleanup());

// ---- index arithmetic, at any size: synthetic tiles whose hashes name their own subtree ----

const scratch = new Float64Array(1);
const scratchBytes = new Uint8Array(scratch.buffer);

function subtreeName(level: number, index: number, into = new Uint8Array(32), at = 0): Uint8Array {
  into[at] = 0xa5;
  into[at + 1] = level;
  scratch[0] = index;
  into.set(scratchBytes, at + 2);
  return into;
}

function foldName(first: SubtreeId, count: number): Uint8Array {
  const h = subtreeName(first.level, first.index);
  h[0] = 0xf0;
  h[10] = count;
  return h;
}

/** A storage that serves, for a tree of `size` leaves, tiles of named (not hashed) subtrees. */
function syntheticStorage(size: number): LogStorage {
  const readTile = async (_ns: number, level: number, index: number): Promise<StoredTile | undefined> => {
    const width = tileWidthAt(size, level, index);
    if (width === 0) return undefined;
    const data = new Uint8Array(rowOffset(width, 8) * 32);
    for (let r = 0; r < 8; r++) {
      for (let p = 0; p < width >>> r; p++)
        subtreeName(8 * level + r, index * (256 >>> r) + p, data, (rowOffset(width, r) + p) * 32);
    }
    return { width, data };
  };
  return { readTile } as unknown as LogStorage;
}

function syntheticEdge(size: number): EdgeFolds {
  const ids = rangeDecomposition(0, size);
  // The fold of the last subtree alone is that subtree's hash, as in the real table.
  return {
    ids,
    folds: ids.map((id, i) => (i === ids.length - 1 ? subtreeName(id.level, id.index) : foldName(id, ids.length - i))),
  };
}

/** What the plan says the proof is: named perfect subtrees, and named edge folds for ragged ones. */
function expectedNames(index: number, size: number): Uint8Array[] {
  return inclusionProofPlan(index, size).map((ids) =>
    ids.length === 1 ? subtreeName(ids[0]!.level, ids[0]!.index) : foldName(ids[0]!, ids.length),
  );
}

function walk(index: number, size: number, tiles = new TileStore(syntheticStorage(size), 64)): Promise<Uint8Array[]> {
  return tiles.read(() => inclusionProofFromTiles(tiles, 1, index, size, syntheticEdge));
}

describe('inclusion proofs read from tiles', () => {
  test('the walk reads exactly the subtrees of the RFC 9162 plan: every index of small trees', async () => {
    for (let size = 1; size <= 320; size++) {
      const tiles = new TileStore(syntheticStorage(size), 64);
      for (let index = 0; index < size; index++)
        assert.deepEqual(await walk(index, size, tiles), expectedNames(index, size), `index ${index} size ${size}`);
    }
  });

  test('property: the same at sizes up to 2^53 - 1 (no 32-bit wraparound)', async () => {
    const sizes = fc.oneof(
      fc.integer({ min: 1, max: 2 ** 20 }),
      fc.integer({ min: 2 ** 31 - 5, max: 2 ** 33 }),
      fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }),
      fc.integer({ min: 0, max: 52 }).map((k) => 2 ** k),
      fc.integer({ min: 1, max: 53 }).map((k) => 2 ** k - 1),
      fc.integer({ min: 8, max: 52 }).map((k) => 2 ** k + 1),
    );
    await fc.assert(
      fc.asyncProperty(sizes, fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), async (size, u) => {
        const index = Math.min(size - 1, Math.floor(u * size));
        assert.deepEqual(await walk(index, size), expectedNames(index, size));
        assert.deepEqual(await walk(size - 1, size), expectedNames(size - 1, size));
        assert.deepEqual(await walk(0, size), expectedNames(0, size));
      }),
      { numRuns: 300 },
    );
  });

  test('a missing tile is a STORAGE_FAILURE, not a wrong proof', async () => {
    const tiles = new TileStore({ readTile: async () => undefined } as unknown as LogStorage, 16);
    await assert.rejects(
      tiles.read(() => inclusionProofFromTiles(tiles, 1, 3, 1000, syntheticEdge)),
      /missing subtree/,
    );
  });

  // ---- the real engine: memory, mirror path blocks (levels 0 and 1) and the database ----

  test('proofs equal MemoryTree through every read path of a multi-level log', async () => {
    const ns = 'p:paths';
    // More than four full level-1 tiles: with tileCacheTiles 16 the upper region (4 tiles)
    // overflows, so level-1 hashes are read from mirror path blocks as well.
    const size = 5 * 65536 + 12345;
    const dir = dirs.make();
    const tree = new MemoryTree();
    const w = await open(dir);
    await w.createNamespace(ns);
    for (let at = 0; at < size;) {
      const calls: Promise<unknown>[] = [];
      for (let c = 0; c < 4 && at < size; c++) {
        const k = Math.min(4000 + (at % 777), size - at);
        const datas = Array.from({ length: k }, (_, i) => entry(ns, at + i));
        for (const d of datas) tree.append(d);
        calls.push(w.append(ns, datas));
        at += k;
      }
      await Promise.all(calls);
    }

    // Sizes: current, historical, around tile and power-of-two boundaries; indices spread over
    // each tree plus its ends and tile edges.
    const sizes = [
      size,
      size - 1,
      1,
      2,
      3,
      255,
      256,
      257,
      65535,
      65536,
      65537,
      131072,
      4 * 65536 + 1,
      300001,
      327680,
      327681,
    ];
    const cases: [number, number][] = [];
    let seed = 99;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n);
    for (const s of sizes) {
      for (const i of [0, 1, 255, 256, 65535, 65536, s - 2, s - 1]) if (i >= 0 && i < s) cases.push([i, s]);
      for (let k = 0; k < 40; k++) cases.push([rnd(s), s]);
    }
    const roots = new Map(sizes.map((s) => [s, tree.rootAt(s)]));
    const check = async (e: Awaited<ReturnType<typeof open>>, what: string) => {
      for (const [i, s] of cases) {
        const proof = await e.inclusionProof(ns, i, s);
        assert.deepEqual(proof, tree.inclusionProof(i, s), `${what}: index ${i} size ${s}`);
        verifyInclusion(i, s, leafHash(entry(ns, i)), proof, roots.get(s)!);
        assert.deepEqual(await e.leafHashAt(ns, i), leafHash(entry(ns, i)));
      }
    };
    await check(w, 'writer (recent tiles in memory)');
    await w.close();

    const m = await open(dir, { tileCacheTiles: 16 });
    await check(m, 'reopened, tiny cache (mirror)');
    const st = m.stats().tileCache;
    assert.ok(st.mirrorReads > 0 && st.tiles <= 16, JSON.stringify(st));
    await check(m, 'reopened, second pass');
    await m.close();

    const d = await open(dir, { tileCacheTiles: 16, tileMirrorDir: false });
    await check(d, 'no mirror (database)');
    assert.equal(d.stats().tileCache.mirrorReads, 0);
    await d.close();
  });
});
