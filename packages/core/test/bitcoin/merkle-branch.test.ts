import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_BITCOIN_BRANCH_LENGTH,
  doubleSha256,
  fromDisplayHex,
  bitcoinMerkleBranch,
  bitcoinMerkleRoot,
  parseBlockHeader,
  bitcoinRootFromBranch,
  toDisplayHex,
  bitcoinTxid,
} from '../../src/index.js';
import { concatBytes } from '../../src/encoding/index.js';
import { BLOCK_100000, GENESIS, SEED, codeOf, hashOf, hex } from './fixtures.js';

const node = (l: Uint8Array, r: Uint8Array) => doubleSha256(concatBytes(l, r));
const txids100000 = BLOCK_100000.txids.map(fromDisplayHex);

test("block 100000: the root of its four txids is the header's merkle root", () => {
  const header = parseBlockHeader(hex(BLOCK_100000.header));
  assert.equal(toDisplayHex(bitcoinMerkleRoot(txids100000)), BLOCK_100000.merkleRoot);
  assert.deepEqual(bitcoinMerkleRoot(txids100000), header.merkleRoot);
});

test('block 100000: the branch of every transaction leads to the root, and only at its own index', () => {
  const root = bitcoinMerkleRoot(txids100000);
  for (const [index, id] of txids100000.entries()) {
    const branch = bitcoinMerkleBranch(txids100000, index);
    assert.equal(branch.length, 2);
    assert.deepEqual(branch[0], txids100000[index ^ 1]);
    assert.deepEqual(bitcoinRootFromBranch(id, index, branch), root);
    for (let other = 0; other < 4; other++) {
      if (other !== index) assert.notDeepEqual(bitcoinRootFromBranch(id, other, branch), root, `${index} at ${other}`);
    }
  }
});

test('genesis: a lone transaction is its own root, with an empty branch', () => {
  const id = bitcoinTxid(hex(GENESIS.coinbase));
  assert.equal(toDisplayHex(bitcoinMerkleRoot([id])), GENESIS.merkleRoot);
  assert.deepEqual(bitcoinMerkleBranch([id], 0), []);
  assert.deepEqual(bitcoinRootFromBranch(id, 0, []), id);
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 1, [])),
    'BITCOIN_PROOF_INVALID',
  );
});

test('an odd last element is paired with itself', () => {
  const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map(hashOf) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  assert.deepEqual(bitcoinMerkleRoot([a, b, c]), node(node(a, b), node(c, c)));
  assert.deepEqual(bitcoinMerkleBranch([a, b, c], 2), [c, node(a, b)]);
  const cd = node(c, d);
  const ee = node(e, e);
  assert.deepEqual(bitcoinMerkleRoot([a, b, c, d, e]), node(node(node(a, b), cd), node(ee, ee)));
  assert.deepEqual(bitcoinMerkleBranch([a, b, c, d, e], 4), [e, ee, node(node(a, b), cd)]);
});

test('building refuses no txids, txids of the wrong size and indexes out of range', () => {
  const ids = txids100000;
  assert.equal(
    codeOf(() => bitcoinMerkleRoot([])),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(() => bitcoinMerkleRoot([new Uint8Array(31)])),
    'INVALID_ARGUMENT',
  );
  assert.equal(
    codeOf(() => bitcoinMerkleBranch([...ids, new Uint8Array(33)], 0)),
    'INVALID_ARGUMENT',
  );
  for (const index of [-1, 4, 1.5, Number.NaN, 2 ** 53]) {
    assert.equal(
      codeOf(() => bitcoinMerkleBranch(ids, index)),
      'INDEX_OUT_OF_RANGE',
      String(index),
    );
  }
});

test('rootFromBranch refuses long branches, bad hashes and indexes the branch cannot reach', () => {
  const id = hashOf('tx');
  const sibling = hashOf('sibling');
  const branch = (n: number) => Array.from({ length: n }, () => sibling);
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 0, branch(MAX_BITCOIN_BRANCH_LENGTH + 1))),
    'BITCOIN_PROOF_INVALID',
  );
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 4, branch(2))),
    'BITCOIN_PROOF_INVALID',
  );
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, -1, branch(2))),
    'BITCOIN_PROOF_INVALID',
  );
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 0.5, branch(2))),
    'BITCOIN_PROOF_INVALID',
  );
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id.subarray(1), 0, branch(2))),
    'BITCOIN_PROOF_INVALID',
  );
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 0, [sibling, sibling.subarray(1)])),
    'BITCOIN_PROOF_INVALID',
  );
  // The deepest branch takes every index below 2^32, including those past the 32-bit signed range.
  const deep = branch(32);
  assert.equal(
    codeOf(() => bitcoinRootFromBranch(id, 2 ** 32, deep)),
    'BITCOIN_PROOF_INVALID',
  );
  let h = id;
  for (const s of deep) h = node(s, h);
  assert.deepEqual(bitcoinRootFromBranch(id, 2 ** 32 - 1, deep), h);
  h = id;
  for (const [i, s] of deep.entries()) h = i === 31 ? node(s, h) : node(h, s);
  assert.deepEqual(bitcoinRootFromBranch(id, 2 ** 31, deep), h);
});

test('every branch of random trees round-trips; the branch has ceil(log2 n) hashes (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 32, maxLength: 32 }), { minLength: 1, maxLength: 70 }), (ids) => {
      const root = bitcoinMerkleRoot(ids);
      const depth = Math.ceil(Math.log2(ids.length));
      for (const [index, id] of ids.entries()) {
        const branch = bitcoinMerkleBranch(ids, index);
        assert.equal(branch.length, depth);
        assert.deepEqual(bitcoinRootFromBranch(id, index, branch), root);
      }
    }),
    { seed: SEED, numRuns: 100 },
  );
});
