import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MemoryTree, leafHash, verifyConsistency, verifyInclusion } from '@vaultmesh/core';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-proofs-');
after(() => dirs.cleanup());

/** C2SP tile bytes from an in-memory tree: level-8L hashes index*256 … index*256+width-1. */
function expectedTile(tree: MemoryTree, level: number, index: number, width: number): Uint8Array {
  const out = new Uint8Array(width * 32);
  for (let i = 0; i < width; i++) out.set(tree.subtreeHash({ level: 8 * level, index: index * 256 + i }), i * 32);
  return out;
}

function expectedBundle(datas: readonly Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  for (const d of datas) parts.push(d.length >> 8, d.length & 0xff, ...d);
  return Uint8Array.from(parts);
}

describe('log engine: roots, proofs, tiles', () => {
  test('property: over random batch splits, roots and proofs equal MemoryTree and verify', async () => {
    const ns = 'p:prop';
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { minLength: 4, maxLength: 12 }),
        async (batches, picks) => {
          const e = await open(dirs.make(), { batchMaxEntries: 257 });
          await e.createNamespace(ns);
          const tree = new MemoryTree();
          let n = 0;
          const sizes = [0];
          for (const b of batches) {
            // Concurrent calls of one batch may be split into several commits; all must agree.
            const chunks = [b >> 1, b - (b >> 1)].filter((k) => k > 0);
            await Promise.all(
              chunks.map((k) => {
                const datas = Array.from({ length: k }, () => entry(ns, n++));
                for (const d of datas) tree.append(d);
                return e.append(ns, datas);
              }),
            );
            sizes.push(n);
          }
          assert.equal(e.integratedSize(ns), n);
          for (const s of sizes) assert.deepEqual(await e.rootAt(ns, s), tree.rootAt(s));
          for (const [a, b, c] of picks) {
            const size = 1 + (a % n);
            const index = b % size;
            const proof = await e.inclusionProof(ns, index, size);
            assert.deepEqual(proof, tree.inclusionProof(index, size));
            verifyInclusion(index, size, leafHash(entry(ns, index)), proof, await e.rootAt(ns, size));
            const from = c % (size + 1);
            const cproof = await e.consistencyProof(ns, from, size);
            assert.deepEqual(cproof, tree.consistencyProof(from, size));
            verifyConsistency(from, size, cproof, await e.rootAt(ns, from), await e.rootAt(ns, size));
          }
          await e.close();
        },
      ),
      { numRuns: 25 },
    );
  });

  test('every proof of a tree crossing tile boundaries matches MemoryTree (exhaustive at small sizes)', async () => {
    const ns = 'p:all';
    const e = await open(dirs.make());
    await e.createNamespace(ns);
    const tree = new MemoryTree();
    for (let size = 1; size <= 70; size++) {
      await e.append(ns, [entry(ns, size - 1)]);
      tree.append(entry(ns, size - 1));
      for (let s = 1; s <= size; s++) {
        for (let i = 0; i < s; i++) assert.deepEqual(await e.inclusionProof(ns, i, s), tree.inclusionProof(i, s));
        assert.deepEqual(await e.consistencyProof(ns, s, size), tree.consistencyProof(s, size));
      }
    }
    await e.close();
  });

  test('tiles (full and partial, all levels) and entry bundles are byte-exact', async () => {
    const ns = 'p:tiles';
    const e = await open(dirs.make(), { batchMaxEntries: 1000 });
    await e.createNamespace(ns);
    const tree = new MemoryTree();
    const datas: Uint8Array[] = [];
    // Sizes chosen so level-1 tiles grow past one full tile and a level-2 tile appears.
    const total = 256 * 256 + 256 * 3 + 77;
    for (let start = 0; start < total; start += 5000) {
      const chunk = Array.from({ length: Math.min(5000, total - start) }, (_, i) => entry(ns, start + i));
      datas.push(...chunk);
      for (const d of chunk) tree.append(d);
      await e.append(ns, chunk);
    }
    assert.equal(e.integratedSize(ns), total);
    const full0 = Math.floor(total / 256);
    for (const idx of [0, 1, 100, full0 - 1]) {
      assert.deepEqual(await e.readTile(ns, 0, idx, 256), expectedTile(tree, 0, idx, 256));
      assert.deepEqual(await e.readEntryBundle(ns, idx, 256), expectedBundle(datas.slice(idx * 256, idx * 256 + 256)));
    }
    // The partial tile at the right edge, and prefixes of full tiles (`.p/W` of an older tree).
    assert.deepEqual(await e.readTile(ns, 0, full0, 77), expectedTile(tree, 0, full0, 77));
    assert.equal(await e.readTile(ns, 0, full0, 78), undefined);
    assert.equal(await e.readTile(ns, 0, full0 + 1, 1), undefined);
    assert.deepEqual(await e.readTile(ns, 0, 5, 13), expectedTile(tree, 0, 5, 13));
    assert.deepEqual(await e.readEntryBundle(ns, full0, 77), expectedBundle(datas.slice(full0 * 256)));
    assert.equal(await e.readEntryBundle(ns, full0, 78), undefined);
    assert.deepEqual(await e.readEntryBundle(ns, 3, 9), expectedBundle(datas.slice(768, 777)));
    // Level 1: tile 0 is full (256 level-8 hashes), tile 1 holds 3; level 2 holds 1.
    assert.deepEqual(await e.readTile(ns, 1, 0, 256), expectedTile(tree, 1, 0, 256));
    assert.deepEqual(await e.readTile(ns, 1, 1, 3), expectedTile(tree, 1, 1, 3));
    assert.equal(await e.readTile(ns, 1, 1, 4), undefined);
    assert.deepEqual(await e.readTile(ns, 2, 0, 1), expectedTile(tree, 2, 0, 1));
    assert.equal(await e.readTile(ns, 2, 0, 2), undefined);
    assert.equal(await e.readTile(ns, 3, 0, 1), undefined);
    // Leaf hashes come from the level-0 tiles.
    assert.deepEqual(await e.leafHashAt(ns, total - 1), leafHash(datas[total - 1]!));
    for (const s of [1, 255, 256, 257, 65536, 65537, total]) assert.deepEqual(await e.rootAt(ns, s), tree.rootAt(s));
    await e.close();
  });

  test('results are copies: mutating them does not corrupt the tile cache', async () => {
    const ns = 'p:copy';
    const e = await open(dirs.make());
    await e.createNamespace(ns);
    await e.append(
      ns,
      Array.from({ length: 10 }, (_, i) => entry(ns, i)),
    );
    const root = await e.rootAt(ns, 10);
    const p = await e.inclusionProof(ns, 3, 10);
    p[0]!.fill(0);
    (await e.leafHashAt(ns, 2)).fill(0);
    (await e.readTile(ns, 0, 0, 10))!.fill(0);
    (await e.rootAt(ns, 10)).fill(0);
    verifyInclusion(3, 10, leafHash(entry(ns, 3)), await e.inclusionProof(ns, 3, 10), root);
    assert.deepEqual(await e.rootAt(ns, 10), root);
    await e.close();
  });
});
