import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import * as core from '@vaultmesh/core';
import { EMPTY_ROOT, leafHash, nodeHash, toHex } from '@vaultmesh/core';
import {
  buildTreeLevels,
  EMPTY_TREE_ROOT,
  JsBatchHasher,
  loadNativeAddon,
  NativeBatchHasher,
  treeRootPacked,
  type BatchHasher,
} from '../../src/hashing/index.ts';

// RFC 6962 §2.1 MTH, transcribed literally: the oracle for the level-by-level build.
function mth(leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(mth(leaves, lo, lo + k), mth(leaves, lo + k, hi));
}

const addon = loadNativeAddon();
const hashers: BatchHasher[] = [new JsBatchHasher()];
if (addon) hashers.push(new NativeBatchHasher(addon));

function leavesOf(n: number): { list: Uint8Array[]; packed: Uint8Array } {
  const list = Array.from({ length: n }, (_, i) => leafHash(randomBytes(i % 90)));
  const packed = new Uint8Array(32 * n);
  list.forEach((h, i) => packed.set(h, 32 * i));
  return { list, packed };
}

test('empty tree root is SHA-256("")', () => {
  assert.equal(toHex(EMPTY_TREE_ROOT), toHex(EMPTY_ROOT));
  for (const h of hashers) {
    assert.equal(toHex(treeRootPacked(new Uint8Array(0), h)), toHex(EMPTY_ROOT));
    const t = buildTreeLevels(new Uint8Array(0), h);
    assert.equal(t.size, 0);
    assert.deepEqual(t.levels, []);
  }
});

test('roots equal RFC 6962 MTH for every size up to 300 and around powers of two', () => {
  const sizes = [...Array.from({ length: 301 }, (_, i) => i), 511, 512, 513, 1023, 1024, 1025, 4095, 4097, 10_000];
  for (const n of sizes) {
    const { list, packed } = leavesOf(n);
    const want = toHex(mth(list));
    for (const h of hashers) assert.equal(toHex(treeRootPacked(packed, h)), want, `${h.kind} n=${n}`);
  }
});

test('levels hold exactly the perfect subtrees', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 600 }), (n) => {
      const { list, packed } = leavesOf(n);
      for (const h of hashers) {
        const t = buildTreeLevels(packed, h);
        assert.equal(t.size, n);
        assert.equal(toHex(t.root), toHex(mth(list)));
        assert.equal(t.levels.length, Math.floor(Math.log2(n)) + 1);
        t.levels.forEach((level, k) => {
          const width = 2 ** k;
          assert.equal(level.length, 32 * Math.floor(n / width));
          for (let i = 0; i < level.length / 32; i++) {
            const want = mth(list, i * width, (i + 1) * width);
            assert.equal(
              toHex(level.subarray(32 * i, 32 * i + 32)),
              toHex(want),
              `${h.kind} n=${n} level ${k} node ${i}`,
            );
          }
        });
      }
    }),
    { numRuns: 40 },
  );
});

test('native and JS trees agree on a large random tree', { skip: addon ? false : 'native addon not built' }, () => {
  const n = 100_003;
  const data = randomBytes(64 * n);
  const offsets = Uint32Array.from({ length: n + 1 }, (_, i) => 64 * i);
  const [jsH, nativeH] = hashers as [BatchHasher, BatchHasher];
  const a = treeRootPacked(nativeH.leafHashesPacked(data, offsets), nativeH);
  const b = treeRootPacked(jsH.leafHashesPacked(data, offsets), jsH);
  assert.equal(toHex(a), toHex(b));
});

// core's own tree (MemoryTree / rootAt over stored subtrees), where that colleague code exists:
// our levels must be the very subtree hashes core's proof functions read from storage.
interface CoreTree {
  appendLeafHash(hash: Uint8Array): number;
  root(): Uint8Array;
}
type RootAt = (size: number, get: (id: { level: number; index: number }) => Uint8Array) => Uint8Array;
const coreApi = core as unknown as { MemoryTree?: new () => CoreTree; rootAt?: RootAt };

test(
  'agrees with core MemoryTree and rootAt over our levels',
  { skip: coreApi.MemoryTree && coreApi.rootAt ? false : 'core has no MemoryTree/rootAt yet' },
  () => {
    for (const n of [1, 2, 3, 5, 8, 13, 100, 255, 256, 257, 1000, 3001]) {
      const { list, packed } = leavesOf(n);
      const tree = new coreApi.MemoryTree!();
      for (const h of list) tree.appendLeafHash(h);
      for (const h of hashers) {
        const t = buildTreeLevels(packed, h);
        assert.equal(toHex(t.root), toHex(tree.root()), `${h.kind} n=${n}`);
        const viaLevels = coreApi.rootAt!(n, ({ level, index }) => {
          const l = t.levels[level];
          assert.ok(l && 32 * (index + 1) <= l.length, `subtree (${level}, ${index}) present`);
          return l.subarray(32 * index, 32 * index + 32);
        });
        assert.equal(toHex(viaLevels), toHex(t.root), `${h.kind} n=${n} rootAt`);
      }
    }
  },
);

test('rejects leaf hashes that are not whole 32-byte hashes', () => {
  for (const h of hashers) assert.throws(() => treeRootPacked(new Uint8Array(33), h), RangeError);
});
