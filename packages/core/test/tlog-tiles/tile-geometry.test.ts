// C2SP tlog-tiles tree shape (https://c2sp.org/tlog-tiles#merkle-tree, #partial-tiles); each test
// quotes the sentence of the spec it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TILE_WIDTH, fullTileCount, leavesPerTileHash, tileWidthAt } from '../../src/index.js';

test('"Full tiles MUST be exactly 256 hashes wide"', () => {
  assert.equal(TILE_WIDTH, 256);
  assert.equal(tileWidthAt(2 ** 40, 0, 7), 256);
});

test('"a tree of size 70,000 will be represented by 273 full level 0 tiles, one partial level 0 tile of width 112, one full level 1 tile, one partial level 1 tile of width 17, and one partial level 2 tile of width 1"', () => {
  const s = 70_000;
  assert.equal(fullTileCount(s, 0), 273);
  assert.equal(tileWidthAt(s, 0, 272), 256);
  assert.equal(tileWidthAt(s, 0, 273), 112);
  assert.equal(tileWidthAt(s, 0, 274), 0);
  assert.equal(fullTileCount(s, 1), 1);
  assert.equal(tileWidthAt(s, 1, 0), 256);
  assert.equal(tileWidthAt(s, 1, 1), 17);
  assert.equal(fullTileCount(s, 2), 0);
  assert.equal(tileWidthAt(s, 2, 0), 1);
  assert.equal(tileWidthAt(s, 3, 0), 0);
});

test('tileWidthAt counts complete hashes, clamped to one tile', () => {
  assert.equal(tileWidthAt(0, 0, 0), 0);
  assert.equal(tileWidthAt(255, 0, 0), 255);
  assert.equal(tileWidthAt(1000, 0, 2), 256);
  assert.equal(tileWidthAt(1000, 0, 3), 1000 - 768);
  assert.equal(tileWidthAt(1000, 0, 4), 0);
});

test('"a tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1"', () => {
  assert.equal(tileWidthAt(256, 0, 0), 256);
  assert.equal(tileWidthAt(256, 0, 1), 0);
  assert.equal(tileWidthAt(256, 1, 0), 1);
  assert.equal(tileWidthAt(256, 2, 0), 0);
});

test('"The partial tile at level l for a tree of size s has floor(s / 256**l) mod 256 entries"', () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), fc.integer({ min: 0, max: 6 }), (s, l) => {
      const partial = Math.floor(s / 256 ** l) % 256;
      // The partial tile comes right after the full ones, and nothing exists after it.
      assert.equal(tileWidthAt(s, l, fullTileCount(s, l)), partial);
      assert.equal(tileWidthAt(s, l, fullTileCount(s, l) + 1), 0);
      if (fullTileCount(s, l) > 0) assert.equal(tileWidthAt(s, l, fullTileCount(s, l) - 1), 256);
    }),
  );
});

test('"the n-th tile at level l ... MTH(D[(n * 256 + i) * 256**l : (n * 256 + i + 1) * 256**l])": one hash spans 256^l leaves', () => {
  assert.equal(leavesPerTileHash(0), 1);
  assert.equal(leavesPerTileHash(1), 256);
  assert.equal(leavesPerTileHash(2), 65_536);
  assert.equal(leavesPerTileHash(3), 2 ** 24);
});
