import { test } from 'node:test';
import assert from 'node:assert/strict';
import { locateHash, rowLength, rowOffset, tileHashCount } from '../../src/log/stored-tile-layout.js';

test('row offsets and sizes of full and partial tiles', () => {
  assert.equal(tileHashCount(256), 510);
  assert.equal(rowOffset(256, 1), 256);
  assert.equal(rowOffset(256, 7), 256 + 128 + 64 + 32 + 16 + 8 + 4);
  assert.equal(tileHashCount(1), 1);
  assert.equal(tileHashCount(5), 5 + 2 + 1);
  assert.equal(rowLength(5, 2), 1);
  assert.equal(rowLength(5, 3), 0);
});

test('locateHash maps tree coordinates to tile rows', () => {
  assert.deepEqual(locateHash(0, 0), { tileLevel: 0, tileIndex: 0, row: 0, position: 0 });
  assert.deepEqual(locateHash(0, 300), { tileLevel: 0, tileIndex: 1, row: 0, position: 44 });
  assert.deepEqual(locateHash(3, 40), { tileLevel: 0, tileIndex: 1, row: 3, position: 8 });
  assert.deepEqual(locateHash(8, 256), { tileLevel: 1, tileIndex: 1, row: 0, position: 0 });
  assert.deepEqual(locateHash(17, 5), { tileLevel: 2, tileIndex: 0, row: 1, position: 5 });
  // Above 2^32 the arithmetic must not wrap.
  assert.deepEqual(locateHash(0, 2 ** 40 + 3), { tileLevel: 0, tileIndex: 2 ** 32, row: 0, position: 3 });
});
