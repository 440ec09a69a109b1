import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EMPTY_ROOT, leafHash, nodeHash, toHex, utf8Encode } from '../../src/index.js';

test('empty root is SHA-256 of the empty string', () => {
  assert.equal(toHex(EMPTY_ROOT), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
});

test('leaf and node hashes are domain separated (RFC 6962 §2.1)', () => {
  // RFC 6962 test tree: leaf hash of the empty leaf.
  assert.equal(toHex(leafHash(new Uint8Array(0))), '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d');
  const a = leafHash(utf8Encode('a'));
  assert.notEqual(toHex(nodeHash(a, a)), toHex(leafHash(new Uint8Array([...a, ...a]))));
});
