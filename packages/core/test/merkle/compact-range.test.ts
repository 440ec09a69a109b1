import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CompactRange,
  EMPTY_ROOT,
  RemembrancerError,
  leafHash,
  rangeDecomposition,
  toHex,
  utf8Encode,
  type SubtreeId,
} from '../../src/index.js';
import { naiveMth } from './naive-merkle.js';

const leaves = Array.from({ length: 600 }, (_, i) => leafHash(utf8Encode(`cr ${i}`)));
const isCode = (code: string) => (e: unknown) => e instanceof RemembrancerError && e.code === code;

test('empty range', () => {
  const cr = new CompactRange();
  assert.equal(cr.size, 0);
  assert.deepEqual(cr.hashes, []);
  assert.equal(toHex(cr.root()), toHex(EMPTY_ROOT));
});

test('appending tracks the frontier, the root, and reports every completed subtree', () => {
  const cr = new CompactRange();
  const seen = new Map<string, string>();
  for (let n = 0; n < leaves.length; n++) {
    const reported: SubtreeId[] = [];
    cr.append(leaves[n]!, (id, hash) => {
      reported.push(id);
      const begin = id.index * 2 ** id.level;
      assert.equal(
        toHex(hash),
        toHex(naiveMth(leaves, begin, begin + 2 ** id.level)),
        `subtree ${id.level}:${id.index}`,
      );
      seen.set(`${id.level}:${id.index}`, toHex(hash));
    });
    // Leaf n completes one subtree per trailing one bit of n, bottom up.
    const expected: SubtreeId[] = [{ level: 0, index: n }];
    for (let l = 1; (n + 1) % 2 ** l === 0; l++) expected.push({ level: l, index: (n + 1) / 2 ** l - 1 });
    assert.deepEqual(reported, expected);
    assert.equal(cr.size, n + 1);
    const frontier = rangeDecomposition(0, n + 1).map((id) => seen.get(`${id.level}:${id.index}`));
    assert.deepEqual(cr.hashes.map(toHex), frontier);
  }
  assert.equal(toHex(cr.root()), toHex(naiveMth(leaves)));
});

test('property: a range restored from (size, hashes) continues like the original; clones are independent', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 300 }), (a, b) => {
      const original = new CompactRange();
      for (let i = 0; i < a; i++) original.append(leaves[i]!);
      const restored = new CompactRange(original.size, original.hashes);
      const clone = original.clone();
      for (let i = a; i < a + b; i++) restored.append(leaves[i]!);
      assert.equal(clone.size, a);
      assert.equal(toHex(clone.root()), toHex(naiveMth(leaves, 0, a)));
      assert.equal(toHex(restored.root()), toHex(naiveMth(leaves, 0, a + b)));
      assert.equal(original.size, a);
    }),
    { numRuns: 100 },
  );
});

test('argument checks', () => {
  assert.throws(() => new CompactRange(3, [leaves[0]!]), isCode('INVALID_ARGUMENT'));
  assert.throws(() => new CompactRange(1, [leaves[0]!.subarray(1)]), isCode('INVALID_ARGUMENT'));
  assert.throws(() => new CompactRange(-1, []), isCode('INVALID_ARGUMENT'));
  assert.throws(() => new CompactRange(1.5, []), isCode('INVALID_ARGUMENT'));
  assert.throws(() => new CompactRange().append(new Uint8Array(31)), isCode('INVALID_ARGUMENT'));
  assert.throws(
    () =>
      new CompactRange(
        Number.MAX_SAFE_INTEGER,
        Array.from({ length: 53 }, () => leaves[0]!),
      ).append(leaves[0]!),
    isCode('SIZE_OUT_OF_RANGE'),
  );
  // Mutating the input array afterwards does not reach into the range.
  const hashes = [leaves[0]!];
  const cr = new CompactRange(1, hashes);
  hashes.pop();
  assert.equal(cr.hashes.length, 1);
});

test('sizes beyond 2^32 keep exact subtree ids', () => {
  const size = 2 ** 40 - 1; // 40 perfect subtrees
  const cr = new CompactRange(
    size,
    Array.from({ length: 40 }, (_, i) => leaves[i]!),
  );
  const reported: SubtreeId[] = [];
  cr.append(leaves[100]!, (id) => reported.push(id));
  assert.equal(reported.length, 41);
  assert.deepEqual(reported[40], { level: 40, index: 0 });
  assert.deepEqual(reported[0], { level: 0, index: size });
  assert.equal(cr.size, 2 ** 40);
  assert.equal(cr.hashes.length, 1);
});

test('a failing onSubtree leaves the range unchanged', () => {
  const cr = new CompactRange();
  for (let i = 0; i < 7; i++) cr.append(leaves[i]!);
  const before = cr.hashes.map(toHex);
  assert.throws(() =>
    cr.append(leaves[7]!, (id) => {
      if (id.level === 2) throw new Error('storage down');
    }),
  );
  assert.equal(cr.size, 7);
  assert.deepEqual(cr.hashes.map(toHex), before);
  cr.append(leaves[7]!);
  assert.equal(toHex(cr.root()), toHex(naiveMth(leaves, 0, 8)));
});
