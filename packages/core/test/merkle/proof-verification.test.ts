import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EMPTY_ROOT,
  MemoryTree,
  RemembrancerError,
  consistencyProof,
  inclusionProof,
  isConsistencyValid,
  isInclusionValid,
  leafHash,
  nodeHash,
  rootAt,
  rootFromInclusionProof,
  utf8Encode,
  verifyConsistency,
  verifyInclusion,
  type SubtreeId,
} from '../../src/index.js';

const N = 2000;
const leaves = Array.from({ length: N }, (_, i) => leafHash(utf8Encode(`entry ${i}`)));
const tree = new MemoryTree();
for (const l of leaves) tree.appendLeafHash(l);
const roots = Array.from({ length: N + 1 }, (_, n) => tree.rootAt(n));

const isCode = (code: string) => (e: unknown) => e instanceof RemembrancerError && e.code === code;

function flipBit(proof: readonly Uint8Array[], element: number, bit: number): Uint8Array[] {
  return proof.map((h, i) => {
    if (i !== element) return h;
    const copy = h.slice();
    copy[bit >> 3]! ^= 1 << (bit & 7);
    return copy;
  });
}

const sizeArb = fc.integer({ min: 1, max: N });

test('inclusion: every leaf of every tree up to 100 leaves verifies', () => {
  for (let n = 1; n <= 100; n++) {
    for (let i = 0; i < n; i++) verifyInclusion(i, n, leaves[i]!, tree.inclusionProof(i, n), roots[n]!);
  }
});

test('inclusion: error codes', () => {
  const proof = tree.inclusionProof(5, 11);
  const root = roots[11]!;
  verifyInclusion(5, 11, leaves[5]!, proof, root);
  assert.throws(() => verifyInclusion(11, 11, leaves[5]!, proof, root), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => verifyInclusion(0, 0, leaves[0]!, [], EMPTY_ROOT), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => verifyInclusion(-1, 11, leaves[5]!, proof, root), isCode('INVALID_ARGUMENT'));
  assert.throws(() => verifyInclusion(5, 2 ** 64, leaves[5]!, proof, root), isCode('INVALID_ARGUMENT'));
  assert.throws(() => verifyInclusion(5, 11, leaves[5]!.subarray(1), proof, root), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyInclusion(5, 11, leaves[5]!, proof.slice(1), root), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyInclusion(5, 11, leaves[5]!, [...proof, root], root), isCode('PROOF_MALFORMED'));
  assert.throws(
    () => verifyInclusion(5, 11, leaves[5]!, [proof[0]!, proof[1]!.subarray(0, 31), ...proof.slice(2)], root),
    isCode('PROOF_MALFORMED'),
  );
  assert.throws(() => verifyInclusion(5, 11, leaves[5]!, proof, root.subarray(0, 31)), isCode('PROOF_MALFORMED'));
  assert.throws(
    () => verifyInclusion(5, 11, leaves[5]!, null as unknown as Uint8Array[], root),
    isCode('PROOF_MALFORMED'),
  );
  assert.throws(
    () => verifyInclusion(5, 11, leaves[5]!, ['x'.repeat(32)] as unknown as Uint8Array[], root),
    isCode('PROOF_MALFORMED'),
  );
  assert.throws(() => verifyInclusion(5, 11, leaves[6]!, proof, root), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyInclusion(5, 11, leaves[5]!, proof, roots[10]!), isCode('PROOF_MISMATCH'));
  assert.equal(isInclusionValid(5, 11, leaves[5]!, proof, root), true);
  assert.equal(isInclusionValid(4, 11, leaves[5]!, proof, root), false);
  assert.equal(isInclusionValid(99, 11, leaves[5]!, proof, root), false);
  assert.equal(isInclusionValid(5, 11, leaves[5]!, [], root), false);
});

test('consistency: every pair of sizes up to 64 verifies', () => {
  for (let n = 0; n <= 64; n++) {
    for (let m = 0; m <= n; m++) verifyConsistency(m, n, tree.consistencyProof(m, n), roots[m]!, roots[n]!);
  }
});

test('consistency: edge cases and error codes', () => {
  const r5 = roots[5]!;
  const r9 = roots[9]!;
  const proof = tree.consistencyProof(5, 9);
  verifyConsistency(5, 9, proof, r5, r9);
  verifyConsistency(9, 9, [], r9, r9);
  verifyConsistency(0, 0, [], EMPTY_ROOT, EMPTY_ROOT);
  verifyConsistency(0, 9, [], EMPTY_ROOT, r9);
  assert.throws(() => verifyConsistency(9, 5, proof, r9, r5), isCode('INVALID_RANGE'));
  assert.throws(() => verifyConsistency(9, 9, [r9], r9, r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(9, 9, [], r9, r5), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(0, 0, [], r5, r5), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(0, 9, [r9], EMPTY_ROOT, r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(0, 9, [], r5, r9), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(0, 9, [], EMPTY_ROOT, r9.subarray(4)), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, [], r5, r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, proof.slice(1), r5, r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, [...proof, r9], r5, r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, proof, r5.subarray(1), r9), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, proof, r5, r9.subarray(1)), isCode('PROOF_MALFORMED'));
  assert.throws(() => verifyConsistency(5, 9, proof, r9, r5), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(5, 9, proof, roots[4]!, r9), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(5, 9, proof, r5, roots[8]!), isCode('PROOF_MISMATCH'));
  assert.throws(() => verifyConsistency(5, 2 ** 53, proof, r5, r9), isCode('INVALID_ARGUMENT'));
  assert.equal(isConsistencyValid(5, 9, proof, r5, r9), true);
  assert.equal(isConsistencyValid(5, 9, proof, r9, r5), false);
  assert.equal(isConsistencyValid(9, 5, proof, r5, r9), false);
});

test('property: inclusion proofs verify; any bit flip, extra, missing or reordered element, or other index fails', () => {
  fc.assert(
    fc.property(sizeArb, fc.nat(), fc.nat(), fc.nat(), fc.nat(), (n, a, b, c, d) => {
      const i = a % n;
      const proof = tree.inclusionProof(i, n);
      const root = roots[n]!;
      assert.deepEqual(rootFromInclusionProof(i, n, leaves[i]!, proof), root);
      verifyInclusion(i, n, leaves[i]!, proof, root);
      const leafCopy = leaves[i]!.slice();
      leafCopy[c % 32]! ^= 1 << (d % 8);
      assert.throws(() => verifyInclusion(i, n, leafCopy, proof, root), isCode('PROOF_MISMATCH'));
      if (proof.length > 0) {
        const e = b % proof.length;
        assert.throws(
          () => verifyInclusion(i, n, leaves[i]!, flipBit(proof, e, c % 256), root),
          isCode('PROOF_MISMATCH'),
        );
        const missing = proof.filter((_, k) => k !== e);
        assert.throws(() => verifyInclusion(i, n, leaves[i]!, missing, root), isCode('PROOF_MALFORMED'));
        if (proof.length > 1) {
          const swapped = proof.slice();
          const f = (e + 1) % proof.length;
          [swapped[e], swapped[f]] = [swapped[f]!, swapped[e]!];
          assert.equal(isInclusionValid(i, n, leaves[i]!, swapped, root), false);
        }
      }
      const extra = proof.slice();
      extra.splice(b % (proof.length + 1), 0, leaves[c % N]!);
      assert.throws(() => verifyInclusion(i, n, leaves[i]!, extra, root), isCode('PROOF_MALFORMED'));
      const rootCopy = root.slice();
      rootCopy[c % 32]! ^= 1 << (d % 8);
      assert.throws(() => verifyInclusion(i, n, leaves[i]!, proof, rootCopy), isCode('PROOF_MISMATCH'));
      if (n > 1) {
        const j = (i + 1 + (d % (n - 1))) % n;
        assert.equal(isInclusionValid(j, n, leaves[i]!, proof, root), false, `index ${j} instead of ${i} in ${n}`);
      }
    }),
    { numRuns: 500 },
  );
});

test('property: consistency proofs verify; any bit flip, extra or missing element, swapped roots or other size fails', () => {
  fc.assert(
    fc.property(sizeArb, fc.nat(), fc.nat(), fc.nat(), fc.nat(), (n, a, b, c, d) => {
      const m = 1 + (a % n);
      const proof = tree.consistencyProof(m, n);
      const r1 = roots[m]!;
      const r2 = roots[n]!;
      verifyConsistency(m, n, proof, r1, r2);
      if (m === n) {
        assert.equal(proof.length, 0);
        return;
      }
      assert.throws(() => verifyConsistency(m, n, proof, r2, r1), isCode('PROOF_MISMATCH'));
      const e = b % proof.length;
      assert.throws(() => verifyConsistency(m, n, flipBit(proof, e, c % 256), r1, r2), isCode('PROOF_MISMATCH'));
      assert.throws(
        () =>
          verifyConsistency(
            m,
            n,
            proof.filter((_, k) => k !== e),
            r1,
            r2,
          ),
        isCode('PROOF_MALFORMED'),
      );
      const extra = proof.slice();
      extra.splice(b % (proof.length + 1), 0, leaves[c % N]!);
      assert.throws(() => verifyConsistency(m, n, extra, r1, r2), isCode('PROOF_MALFORMED'));
      for (const r of [r1, r2]) {
        const copy = r.slice();
        copy[c % 32]! ^= 1 << (d % 8);
        assert.equal(isConsistencyValid(m, n, proof, r === r1 ? copy : r1, r === r2 ? copy : r2), false);
      }
      // A different old size (with its own true root) must not be accepted with this proof.
      const m2 = 1 + ((m + d) % n);
      if (m2 !== m)
        assert.equal(isConsistencyValid(m2, n, proof, roots[m2]!, r2), false, `size1 ${m2} instead of ${m} to ${n}`);
    }),
    { numRuns: 500 },
  );
});

/**
 * A real tree of any size whose leaves are all equal: the hash of a perfect subtree then depends on
 * its level only, so proofs for trees of 2^40 and more leaves can be built and checked cheaply.
 */
function uniformTree(): (id: SubtreeId) => Uint8Array {
  const byLevel = [leafHash(utf8Encode('same'))];
  return (id) => {
    while (byLevel.length <= id.level)
      byLevel.push(nodeHash(byLevel[byLevel.length - 1]!, byLevel[byLevel.length - 1]!));
    return byLevel[id.level]!;
  };
}

test('property: proofs of huge trees (up to 2^53 - 1 leaves) verify, and tampering fails', () => {
  const get = uniformTree();
  const leaf = get({ level: 0, index: 0 });
  const big = fc.oneof(
    fc.integer({ min: 2 ** 40, max: 2 ** 41 }),
    fc.integer({ min: 2 ** 52, max: Number.MAX_SAFE_INTEGER }),
    fc.constant(Number.MAX_SAFE_INTEGER),
  );
  fc.assert(
    fc.property(big, fc.maxSafeNat(), fc.maxSafeNat(), fc.nat(), (n, a, b, c) => {
      const i = a % n;
      const root = rootAt(n, get);
      const proof = inclusionProof(i, n, get);
      verifyInclusion(i, n, leaf, proof, root);
      if (proof.length > 0)
        assert.equal(isInclusionValid(i, n, leaf, flipBit(proof, c % proof.length, c % 256), root), false);
      assert.equal(isInclusionValid(i, n, leaf, proof.slice(1), root), false);
      const m = 1 + (b % n);
      const cproof = consistencyProof(m, n, get);
      verifyConsistency(m, n, cproof, rootAt(m, get), root);
      if (cproof.length > 0)
        assert.equal(
          isConsistencyValid(m, n, flipBit(cproof, c % cproof.length, c % 256), rootAt(m, get), root),
          false,
        );
      assert.equal(isConsistencyValid(m, n, [...cproof, leaf], rootAt(m, get), root), false);
    }),
    { numRuns: 200 },
  );
  const n = 2 ** 40;
  assert.equal(inclusionProof(n - 1, n, get).length, 40);
  assert.equal(consistencyProof(n - 1, n, get).length, 41);
});
