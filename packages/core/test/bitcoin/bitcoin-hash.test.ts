import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { doubleSha256, fromDisplayHex, toDisplayHex, toHex, utf8Encode } from '../../src/index.js';
import { GENESIS, SEED, codeOf, hex } from './fixtures.js';

test('doubleSha256 is SHA-256 twice (values from Python hashlib)', () => {
  assert.equal(
    toHex(doubleSha256(new Uint8Array(0))),
    '5df6e0e2761359d30a8275058e299fcc0381534545f55cf43e41983f5d4c9456',
  );
  assert.equal(
    toHex(doubleSha256(utf8Encode('abc'))),
    '4f8b42c22dd3729b519ba6f68d2da7cc5b2d606d05daed5ad5128cc03e6c6358',
  );
});

test('display hex is the internal bytes reversed: the genesis block hash', () => {
  const internal = doubleSha256(hex(GENESIS.header));
  assert.equal(toHex(internal), '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000');
  assert.equal(toDisplayHex(internal), GENESIS.hash);
  assert.deepEqual(fromDisplayHex(GENESIS.hash), internal);
  // Converting for display does not reverse the caller's bytes in place.
  assert.equal(toHex(internal), '6fe28c0ab6f1b372c1a6a246ae63f74f931e8365e15a089c68d6190000000000');
});

test('fromDisplayHex refuses what is not hex', () => {
  for (const bad of ['0', 'zz', '0x00', 'ab cd'])
    assert.equal(
      codeOf(() => fromDisplayHex(bad)),
      'INVALID_ENCODING',
    );
  assert.deepEqual(fromDisplayHex(''), new Uint8Array(0));
});

test('display hex round-trips (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
      assert.deepEqual(fromDisplayHex(toDisplayHex(bytes)), bytes);
      assert.equal(toDisplayHex(bytes), toHex(bytes.slice().reverse()));
    }),
    { seed: SEED, numRuns: 200 },
  );
});
