import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MemoryTree,
  RemembrancerError,
  base64Encode,
  buildEpochTree,
  compareEpochLeaves,
  epochLeafData,
  leafHash,
  verifyInclusion,
} from '../../src/index.js';
import { naiveMth, naivePath } from '../merkle/naive-merkle.js';
import { alpha, beta, delta, epochLeaves, gamma, sealedLeaf } from './federation.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250312);

test('the epoch root is the RFC 6962 root of the sorted leaves, with verifying inclusion proofs', () => {
  const leaves = epochLeaves();
  const tree = buildEpochTree(leaves);
  const sorted = [...leaves].sort(compareEpochLeaves);
  assert.deepEqual(
    tree.leaves.map((l) => l.origin),
    [
      'alpha.vaultmesh.local/acme:audit',
      'alpha.vaultmesh.local/dao:vaultmesh',
      'beta.vaultmesh.local/dao:treasury',
      'gamma.vaultmesh.local/acme:audit',
    ],
  );
  assert.deepEqual(tree.leaves, sorted);
  assert.equal(tree.size, 4);
  // Two independent computations: the recursive definition (RFC 9162 §2.1.1) and MemoryTree.
  const hashes = sorted.map((l) => leafHash(epochLeafData(l)));
  assert.deepEqual(tree.root, naiveMth(hashes));
  const reference = new MemoryTree();
  for (const l of sorted) reference.append(epochLeafData(l));
  assert.deepEqual(tree.root, reference.root());
  assert.equal(tree.rootBase64, base64Encode(tree.root));
  for (let i = 0; i < tree.size; i++) {
    assert.deepEqual(tree.inclusionProof(i), naivePath(i, hashes));
    verifyInclusion(i, tree.size, hashes[i]!, tree.inclusionProof(i), tree.root);
    assert.equal(tree.indexOfOrigin(tree.leaves[i]!.origin), i);
  }
  assert.equal(tree.indexOfOrigin('nobody/a:b'), -1);
});

test('the root does not depend on the order the leaves arrive in (fast-check)', () => {
  const pool = [
    ...epochLeaves(),
    sealedLeaf(delta, 'dao:vaultmesh', 1),
    sealedLeaf(gamma, 'zz:last', 99, { cosigners: [beta], min: 1 }),
    sealedLeaf(beta, 'aa:first', 5, { cosigners: [gamma, delta] }),
  ];
  const roots = new Map<string, string>();
  fc.assert(
    fc.property(fc.subarray(pool, { minLength: 1 }), fc.infiniteStream(fc.nat()), (subset, rand) => {
      const key = subset
        .map((l) => l.origin)
        .sort()
        .join(',');
      const shuffled = [...subset];
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = rand.next().value % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
      }
      const tree = buildEpochTree(shuffled);
      const seen = roots.get(key);
      if (seen !== undefined) assert.equal(tree.rootBase64, seen);
      roots.set(key, tree.rootBase64);
      assert.deepEqual(
        tree.root,
        naiveMth([...subset].sort(compareEpochLeaves).map((l) => leafHash(epochLeafData(l)))),
      );
    }),
    { numRuns: 200, seed: SEED },
  );
});

test('one leaf per origin, at least one leaf, every leaf well-formed', () => {
  const leaves = epochLeaves();
  assert.throws(
    () => buildEpochTree([...leaves, sealedLeaf(alpha, 'dao:vaultmesh', 8)]),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'EPOCH_LEAF_INVALID' && /listed twice/.test(e.message),
  );
  assert.throws(
    () => buildEpochTree([]),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
  );
  assert.throws(
    () => buildEpochTree([{ ...leaves[0]!, size: 0 }]),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'EPOCH_LEAF_INVALID',
  );
  const one = buildEpochTree([leaves[1]!]);
  assert.equal(one.size, 1);
  assert.deepEqual(one.root, leafHash(epochLeafData(leaves[1]!)));
  assert.deepEqual(one.inclusionProof(0), []);
  assert.throws(() => one.inclusionProof(1), RemembrancerError);
});
