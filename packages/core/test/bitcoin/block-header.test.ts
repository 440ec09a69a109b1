import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, bitcoinBlockHash, parseBlockHeader, toDisplayHex, toHex } from '../../src/index.js';
import { BLOCK_100000, GENESIS, SEED, codeOf, hex } from './fixtures.js';

test('the mainnet genesis header: its fields and its hash', () => {
  const bytes = hex(GENESIS.header);
  const h = parseBlockHeader(bytes);
  assert.equal(h.version, 1);
  assert.deepEqual(h.prevBlock, new Uint8Array(32));
  assert.equal(toDisplayHex(h.merkleRoot), GENESIS.merkleRoot);
  assert.equal(h.time, 1231006505); // 2009-01-03T18:15:05Z
  assert.equal(h.bits, 0x1d00ffff);
  assert.equal(h.nonce, 2083236893);
  assert.equal(toDisplayHex(bitcoinBlockHash(bytes)), GENESIS.hash);
});

test('mainnet block 100000: its fields and its hash', () => {
  const bytes = hex(BLOCK_100000.header);
  const h = parseBlockHeader(bytes);
  assert.equal(h.version, 1);
  assert.equal(toDisplayHex(h.prevBlock), BLOCK_100000.prevBlock);
  assert.equal(toDisplayHex(h.merkleRoot), BLOCK_100000.merkleRoot);
  assert.equal(h.time, 1293623863); // 2010-12-29T11:57:43Z
  assert.equal(h.bits, 0x1b04864c);
  assert.equal(h.nonce, 274148111);
  assert.equal(toDisplayHex(bitcoinBlockHash(bytes)), BLOCK_100000.hash);
});

test('a header is exactly 80 bytes', () => {
  const bytes = hex(GENESIS.header);
  for (const wrong of [new Uint8Array(0), bytes.subarray(0, 79), Uint8Array.of(...bytes, 0)]) {
    assert.equal(
      codeOf(() => parseBlockHeader(wrong)),
      'BITCOIN_MALFORMED',
    );
    assert.equal(
      codeOf(() => bitcoinBlockHash(wrong)),
      'BITCOIN_MALFORMED',
    );
  }
});

test('the parsed hashes are copies, and the version is signed', () => {
  const bytes = hex(BLOCK_100000.header);
  const h = parseBlockHeader(bytes);
  bytes.fill(0xff);
  assert.equal(toDisplayHex(h.merkleRoot), BLOCK_100000.merkleRoot);
  assert.equal(parseBlockHeader(bytes).version, -1);
  // A header inside a larger buffer (a subarray with an offset) reads the same.
  const padded = new Uint8Array(100);
  padded.set(hex(GENESIS.header), 7);
  assert.equal(
    toHex(parseBlockHeader(padded.subarray(7, 87)).merkleRoot),
    toHex(parseBlockHeader(hex(GENESIS.header)).merkleRoot),
  );
  assert.equal(toDisplayHex(bitcoinBlockHash(padded.subarray(7, 87))), GENESIS.hash);
});

test('random bytes parse or fail with BITCOIN_MALFORMED, never anything else (property)', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.uint8Array({ maxLength: 120 }), fc.uint8Array({ minLength: 80, maxLength: 80 })),
      (bytes) => {
        try {
          const h = parseBlockHeader(bytes);
          assert.equal(bytes.length, 80);
          assert.equal(h.prevBlock.length + h.merkleRoot.length, 64);
          assert.equal(bitcoinBlockHash(bytes).length, 32);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError && e.code === 'BITCOIN_MALFORMED', String(e));
        }
      },
    ),
    { seed: SEED, numRuns: 500 },
  );
});
