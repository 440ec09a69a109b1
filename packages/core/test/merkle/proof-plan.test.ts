import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MemoryTree,
  RemembrancerError,
  consistencyProof,
  consistencyProofPlan,
  inclusionProof,
  inclusionProofPlan,
  leafHash,
  rangeDecomposition,
  rootAt,
  toHex,
  utf8Encode,
  type SubtreeId,
} from '../../src/index.js';
import {
  naiveConsistency,
  naiveConsistencyRanges,
  naiveMth,
  naivePath,
  naivePathRanges,
  type Range,
} from './naive-merkle.js';

const N = 2000;
const leaves = Array.from({ length: N }, (_, i) => leafHash(utf8Encode(`leaf ${i}`)));
const tree = new MemoryTree();
for (const l of leaves) tree.appendLeafHash(l);

const hex = (hs: readonly Uint8Array[]): string[] => hs.map(toHex);
const isCode = (code: string) => (e: unknown) => e instanceof RemembrancerError && e.code === code;

/** A plan element covers the range its subtrees make up, which must be exactly their decomposition. */
function planRanges(plan: readonly (readonly SubtreeId[])[]): Range[] {
  return plan.map((ids) => {
    const first = ids[0]!;
    const last = ids[ids.length - 1]!;
    const begin = BigInt(first.index) << BigInt(first.level);
    const end = (BigInt(last.index) + 1n) << BigInt(last.level);
    assert.deepEqual(ids, rangeDecomposition(Number(begin), Number(end)));
    return [begin, end] as const;
  });
}

test('RFC 9162 §2.1.5 example tree of 7 leaves', () => {
  // The RFC's example: the inclusion proof for d0 is [b, h, l] and for d3 is [c, g, l]; the
  // consistency proofs are [c, d, g, l] (3→7), [l] (4→7) and [i, j, k, l] (6→7).
  const ids = (plan: SubtreeId[][]) => plan.map((e) => e.map((x) => `${x.level}:${x.index}`).join('+'));
  assert.deepEqual(ids(inclusionProofPlan(0, 7)), ['0:1', '1:1', '1:2+0:6']);
  assert.deepEqual(ids(inclusionProofPlan(3, 7)), ['0:2', '1:0', '1:2+0:6']);
  assert.deepEqual(ids(inclusionProofPlan(4, 7)), ['0:5', '0:6', '2:0']);
  assert.deepEqual(ids(inclusionProofPlan(6, 7)), ['1:2', '2:0']);
  assert.deepEqual(ids(consistencyProofPlan(3, 7)), ['0:2', '0:3', '1:0', '1:2+0:6']);
  assert.deepEqual(ids(consistencyProofPlan(4, 7)), ['1:2+0:6']);
  assert.deepEqual(ids(consistencyProofPlan(6, 7)), ['1:2', '0:6', '2:0']);
});

test('degenerate plans and argument checks', () => {
  assert.deepEqual(inclusionProofPlan(0, 1), []);
  assert.deepEqual(consistencyProofPlan(5, 5), []);
  assert.deepEqual(consistencyProofPlan(0, 5), []);
  assert.deepEqual(consistencyProofPlan(0, 0), []);
  assert.throws(() => inclusionProofPlan(3, 3), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => inclusionProofPlan(0, 0), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => inclusionProofPlan(-1, 3), isCode('INVALID_ARGUMENT'));
  assert.throws(() => inclusionProofPlan(0.5, 3), isCode('INVALID_ARGUMENT'));
  assert.throws(() => inclusionProofPlan(0, 2 ** 53), isCode('INVALID_ARGUMENT'));
  assert.throws(() => consistencyProofPlan(4, 3), isCode('INVALID_RANGE'));
  assert.throws(() => consistencyProofPlan(1, Number.NaN), isCode('INVALID_ARGUMENT'));
  const get = () => new Uint8Array(32);
  assert.throws(() => rootAt(-1, get), isCode('INVALID_ARGUMENT'));
  assert.throws(() => inclusionProof(2, 2, get), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => consistencyProof(3, 2, get), isCode('INVALID_RANGE'));
});

test('roots from subtrees equal the recursive MTH (every size up to 256, random sizes up to 2000)', () => {
  for (let n = 0; n <= 256; n++) assert.equal(toHex(tree.rootAt(n)), toHex(naiveMth(leaves, 0, n)), `size ${n}`);
  fc.assert(
    fc.property(fc.integer({ min: 257, max: N }), (n) => {
      assert.equal(toHex(tree.rootAt(n)), toHex(naiveMth(leaves, 0, n)));
    }),
    { numRuns: 100 },
  );
});

test('every inclusion proof of every tree up to 64 leaves equals the recursive PATH', () => {
  for (let n = 1; n <= 64; n++) {
    const sub = leaves.slice(0, n);
    for (let i = 0; i < n; i++)
      assert.deepEqual(hex(tree.inclusionProof(i, n)), hex(naivePath(i, sub)), `PATH(${i}, D[${n}])`);
  }
});

test('every consistency proof between trees up to 64 leaves equals the recursive PROOF', () => {
  for (let n = 1; n <= 64; n++) {
    const sub = leaves.slice(0, n);
    for (let m = 1; m <= n; m++)
      assert.deepEqual(hex(tree.consistencyProof(m, n)), hex(naiveConsistency(m, sub)), `PROOF(${m}, D[${n}])`);
  }
});

test('property: planned inclusion and consistency proofs equal the recursive ones (sizes 1..2000)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), (n, a, b) => {
      const sub = leaves.slice(0, n);
      const i = a % n;
      assert.deepEqual(hex(tree.inclusionProof(i, n)), hex(naivePath(i, sub)));
      const m = 1 + (b % n);
      assert.deepEqual(hex(tree.consistencyProof(m, n)), hex(naiveConsistency(m, sub)));
    }),
    { numRuns: 300 },
  );
});

test('property: plans for huge trees cover the ranges of the recursive definitions (sizes up to 2^53 - 1)', () => {
  const size = fc.oneof(
    fc.integer({ min: 2 ** 40, max: 2 ** 41 }),
    fc.integer({ min: 2 ** 31 - 3, max: 2 ** 33 }),
    fc.integer({ min: 2 ** 52, max: Number.MAX_SAFE_INTEGER }),
    fc.constantFrom(2 ** 40, 2 ** 40 + 1, 2 ** 40 - 1, 2 ** 32, 2 ** 32 + 1, Number.MAX_SAFE_INTEGER),
  );
  fc.assert(
    fc.property(size, fc.maxSafeNat(), fc.maxSafeNat(), (n, a, b) => {
      const i = a % n;
      const inclusion = inclusionProofPlan(i, n);
      assert.deepEqual(planRanges(inclusion), naivePathRanges(BigInt(i), 0n, BigInt(n)));
      const m = 1 + (b % n);
      const consistency = consistencyProofPlan(m, n);
      assert.deepEqual(planRanges(consistency), naiveConsistencyRanges(BigInt(m), 0n, BigInt(n)));
    }),
    { numRuns: 1000 },
  );
});
