import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EMPTY_ROOT,
  MemoryTree,
  RemembrancerError,
  leafHash,
  toHex,
  utf8Encode,
  verifyConsistency,
  verifyInclusion,
} from '../../src/index.js';
import { naiveMth } from './naive-merkle.js';

const isCode = (code: string) => (e: unknown) => e instanceof RemembrancerError && e.code === code;

test('append returns indices; roots match MTH at every size', () => {
  const tree = new MemoryTree();
  assert.equal(toHex(tree.root()), toHex(EMPTY_ROOT));
  const data = Array.from({ length: 70 }, (_, i) => utf8Encode(JSON.stringify({ i })));
  for (let i = 0; i < data.length; i++) assert.equal(tree.append(data[i]!), i);
  const leaves = data.map(leafHash);
  assert.equal(tree.size, 70);
  assert.equal(toHex(tree.root()), toHex(naiveMth(leaves)));
  for (let n = 0; n <= 70; n++) assert.equal(toHex(tree.rootAt(n)), toHex(naiveMth(leaves, 0, n)));
  assert.equal(toHex(tree.subtreeHash({ level: 0, index: 69 })), toHex(leaves[69]!));
  assert.equal(toHex(tree.subtreeHash({ level: 6, index: 0 })), toHex(naiveMth(leaves, 0, 64)));
  verifyInclusion(33, 70, leaves[33]!, tree.inclusionProof(33, 70), tree.root());
  verifyInclusion(3, 9, leaves[3]!, tree.inclusionProof(3, 9), tree.rootAt(9));
  verifyConsistency(9, 70, tree.consistencyProof(9, 70), tree.rootAt(9), tree.root());
});

test('requests beyond the tree are refused', () => {
  const tree = new MemoryTree();
  for (let i = 0; i < 10; i++) tree.append(utf8Encode(String(i)));
  assert.throws(() => tree.rootAt(11), isCode('SIZE_OUT_OF_RANGE'));
  assert.throws(() => tree.inclusionProof(3, 11), isCode('SIZE_OUT_OF_RANGE'));
  assert.throws(() => tree.inclusionProof(10, 10), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => tree.consistencyProof(3, 11), isCode('SIZE_OUT_OF_RANGE'));
  assert.throws(() => tree.consistencyProof(5, 4), isCode('INVALID_RANGE'));
  assert.throws(() => tree.subtreeHash({ level: 2, index: 2 }), isCode('INDEX_OUT_OF_RANGE')); // leaves 8..11, incomplete
  assert.throws(() => tree.subtreeHash({ level: 0, index: 10 }), isCode('INDEX_OUT_OF_RANGE'));
  assert.throws(() => tree.subtreeHash({ level: -1, index: 0 }), isCode('INVALID_ARGUMENT'));
  assert.throws(() => tree.appendLeafHash(new Uint8Array(3)), isCode('INVALID_ARGUMENT'));
  assert.equal(tree.size, 10);
});
