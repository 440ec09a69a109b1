import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RLP } from '@ethereumjs/rlp';
import { Trie } from '@ethereumjs/trie';
import fc from 'fast-check';
import { MAX_EVM_PROOF_NODES, buildEvmTxProof, evmTxFromProof, toHex } from '../../src/index.js';
import { EMPTY_TRIE_ROOT, SEED, codeOf, hashOf, keccak, rawTx } from './fixtures.js';

/** A block's worth of transactions of every form, the anchor-shaped ones among them. */
function transactions(count: number): Uint8Array[] {
  return Array.from({ length: count }, (_, i) =>
    rawTx(((i * 7) % 5) as 0 | 1 | 2 | 3 | 4, { nonce: i, data: hashOf(`tx ${i}`) }),
  );
}

/** The same trie by @ethereumjs/trie, an independent implementation of the Yellow Paper's. */
async function referenceTrie(values: readonly Uint8Array[]): Promise<Trie> {
  const trie = new Trie();
  for (const [i, value] of values.entries()) await trie.put(RLP.encode(i), value);
  return trie;
}

test('roots and proofs are byte for byte those of @ethereumjs/trie, and each verifies the other', async () => {
  // Sizes around the key lengths: rlp(i) is 1 byte below 128, 2 bytes to 255, 3 from 256.
  for (const count of [1, 2, 3, 16, 17, 127, 128, 129, 200, 256, 257, 300]) {
    const txs = transactions(count);
    const trie = await referenceTrie(txs);
    for (const index of new Set([0, 1 % count, Math.floor(count / 2), 127 % count, 128 % count, count - 1])) {
      const { root, proof } = buildEvmTxProof(txs, index);
      assert.equal(toHex(root), toHex(trie.root()), `root of ${count}`);
      const reference = await trie.createProof(RLP.encode(index));
      assert.deepEqual(proof.map(toHex), reference.map(toHex), `proof of ${index} in ${count}`);
      assert.deepEqual(evmTxFromProof(root, index, proof), txs[index]);
      assert.deepEqual(await trie.verifyProof(trie.root(), RLP.encode(index), proof), txs[index]);
      assert.ok(proof.length <= MAX_EVM_PROOF_NODES);
    }
  }
});

test('small values make embedded nodes: built and walked as the reference does', async () => {
  // Values of a few bytes make leaves (and then branches) whose RLP is under 32 bytes: they sit in
  // their parent instead of being hashed, and are not proof nodes of their own.
  for (const count of [1, 2, 3, 5, 16, 40]) {
    const values = Array.from({ length: count }, (_, i) => Uint8Array.of(i + 1, 0xee));
    const trie = await referenceTrie(values);
    for (let index = 0; index < count; index++) {
      const { root, proof } = buildEvmTxProof(values, index);
      assert.equal(toHex(root), toHex(trie.root()));
      assert.deepEqual(evmTxFromProof(root, index, proof), values[index]);
      assert.deepEqual(await trie.verifyProof(trie.root(), RLP.encode(index), proof), values[index]);
    }
  }
  // One tiny value: the root node is under 32 bytes, and hashed all the same.
  const { root, proof } = buildEvmTxProof([Uint8Array.of(1)], 0);
  assert.equal(proof.length, 1);
  assert.ok(proof[0]!.length < 32);
  assert.deepEqual(root, keccak(proof[0]!));
});

test('a proof shows one transaction at one index, and nothing else', async () => {
  const txs = transactions(40);
  const { root, proof } = buildEvmTxProof(txs, 17);
  const invalid = (r: Uint8Array, index: number, p: readonly Uint8Array[]) => codeOf(() => evmTxFromProof(r, index, p));
  // Another index on the same path, or off it: absent or elsewhere.
  for (const index of [0, 1, 16, 18, 39, 40, 128, 1_000_000])
    assert.equal(invalid(root, index, proof), 'EVM_PROOF_INVALID');
  // Another root.
  assert.equal(invalid(hashOf('root'), 17, proof), 'EVM_PROOF_INVALID');
  assert.equal(invalid(buildEvmTxProof(txs.slice(0, 39), 17).root, 17, proof), 'EVM_PROOF_INVALID');
  // Missing, extra, reordered or repeated nodes.
  assert.equal(invalid(root, 17, proof.slice(0, -1)), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, proof.slice(1)), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, []), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, [...proof, proof.at(-1)!]), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, [...proof, buildEvmTxProof(txs, 18).proof.at(-1)!]), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, [...proof].reverse()), 'EVM_PROOF_INVALID');
  // Any changed byte of any node.
  for (const [n, node] of proof.entries()) {
    for (const at of [0, 1, Math.floor(node.length / 2), node.length - 1]) {
      const changed = proof.map((p, j) => (j === n ? p.map((b, k) => (k === at ? b ^ 0x01 : b)) : p));
      assert.equal(invalid(root, 17, changed), 'EVM_PROOF_INVALID', `node ${n} byte ${at}`);
    }
  }
  // The reference's proof of absence for a key beyond the block is no proof of a transaction.
  const trie = await referenceTrie(txs);
  assert.equal(invalid(root, 40, await trie.createProof(RLP.encode(40))), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 300, await trie.createProof(RLP.encode(300))), 'EVM_PROOF_INVALID');
  // Bad arguments.
  assert.equal(invalid(root.subarray(1), 17, proof), 'INVALID_ARGUMENT');
  assert.equal(invalid(root, -1, proof), 'INVALID_ARGUMENT');
  assert.equal(invalid(root, 1.5, proof), 'INVALID_ARGUMENT');
  assert.equal(invalid(root, 17, 'proof' as never), 'EVM_PROOF_INVALID');
  assert.equal(invalid(root, 17, [...proof.map(toHex)] as never), 'EVM_PROOF_INVALID');
  assert.equal(
    invalid(
      root,
      17,
      Array.from({ length: MAX_EVM_PROOF_NODES + 1 }, () => proof[0]!),
    ),
    'EVM_PROOF_INVALID',
  );
});

test('building refuses what is not a block: INVALID_ARGUMENT, INDEX_OUT_OF_RANGE', () => {
  assert.equal(
    codeOf(() => buildEvmTxProof([], 0)),
    'INDEX_OUT_OF_RANGE',
  );
  assert.equal(
    codeOf(() => buildEvmTxProof(transactions(3), 3)),
    'INDEX_OUT_OF_RANGE',
  );
  assert.equal(
    codeOf(() => buildEvmTxProof(transactions(3), -1)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(() => buildEvmTxProof([rawTx(2), new Uint8Array(0)], 0)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(() => buildEvmTxProof([toHex(rawTx(2))] as never, 0)),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(() => buildEvmTxProof('txs' as never, 0)),
    'INVALID_ARGUMENT',
  );
  // The empty trie's root, for the record: what an empty block's header carries.
  assert.equal(toHex(keccak(Uint8Array.of(0x80))), EMPTY_TRIE_ROOT);
});

test('any list of values builds proofs that walk back to each value (property)', () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 90 }), { minLength: 1, maxLength: 150 }),
      fc.nat(),
      (values, at) => {
        const index = at % values.length;
        const { root, proof } = buildEvmTxProof(values, index);
        assert.deepEqual(evmTxFromProof(root, index, proof), values[index]);
      },
    ),
    { seed: SEED, numRuns: 200 },
  );
});

test('walking random or mangled proofs throws nothing but EVM_PROOF_INVALID (property)', () => {
  const txs = transactions(150);
  const good = buildEvmTxProof(txs, 130);
  const mangled = fc
    .tuple(fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }))
    .map(([n, at, xor]) =>
      good.proof.map((p, j) =>
        j === n % good.proof.length ? p.map((b, k) => (k === at % p.length ? b ^ xor : b)) : p,
      ),
    );
  const proofs = fc.oneof(
    mangled,
    fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 6 }),
    fc.shuffledSubarray(good.proof),
  );
  fc.assert(
    fc.property(proofs, fc.nat({ max: 200 }), (proof, index) => {
      const code = codeOf(() => evmTxFromProof(good.root, index, proof));
      assert.ok(code === undefined || code === 'EVM_PROOF_INVALID', code);
      if (code === undefined) assert.deepEqual(evmTxFromProof(good.root, index, proof), txs[index]);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});

test('walking hash-linked proofs of random nodes throws nothing but EVM_PROOF_INVALID (property)', () => {
  // Each node but the last is a branch whose 16 children all reference the next node, so every
  // walk reaches the last, random one with its hash checks passed: the structural checks run.
  const tree = fc.letrec<{ item: unknown }>((tie) => ({
    item: fc.oneof({ depthSize: 'small' }, fc.uint8Array({ maxLength: 40 }), fc.array(tie('item'), { maxLength: 18 })),
  })).item;
  const last = fc.oneof(
    tree,
    fc.tuple(fc.uint8Array({ maxLength: 4 }), tree),
    fc.array(tree, { minLength: 17, maxLength: 17 }),
  );
  fc.assert(
    fc.property(fc.nat({ max: 3 }), last, fc.nat({ max: 300 }), (branches, end, index) => {
      const proof = [RLP.encode(end as never)];
      for (let i = 0; i < branches; i++) {
        const next = keccak(proof[0]!);
        proof.unshift(RLP.encode([...Array.from({ length: 16 }, () => next), new Uint8Array(0)]));
      }
      const code = codeOf(() => evmTxFromProof(keccak(proof[0]!), index, proof));
      assert.ok(code === undefined || code === 'EVM_PROOF_INVALID', code);
    }),
    { seed: SEED, numRuns: 1000 },
  );
});
