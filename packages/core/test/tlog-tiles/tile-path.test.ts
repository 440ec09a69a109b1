// C2SP tlog-tiles paths (https://c2sp.org/tlog-tiles#merkle-tree, #log-entries); each test quotes
// the sentence of the spec it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatTileIndex, formatTilePath, isRemembrancerError, parseTilePath } from '../../src/index.js';

const invalid = (e: unknown) => isRemembrancerError(e, 'INVALID_ARGUMENT');

test('"index 1234067 will be encoded as x001/x234/067"', () => {
  assert.equal(formatTileIndex(0), '000');
  assert.equal(formatTileIndex(999), '999');
  assert.equal(formatTileIndex(1000), 'x001/000');
  assert.equal(formatTileIndex(1234067), 'x001/x234/067');
  assert.deepEqual(parseTilePath('0/x001/x234/067'), { level: 0, index: 1234067, width: 256 });
  assert.deepEqual(parseTilePath('2/000.p/7'), { level: 2, index: 0, width: 7 });
  assert.deepEqual(parseTilePath('entries/x001/234.p/255'), { level: 'entries', index: 1234, width: 255 });
});

test('"<N> ... MUST be a non-negative integer encoded into zero-padded 3-digit path elements. All but the last path element MUST begin with an x"', () => {
  for (const bad of [
    '0/1',
    '0/0001',
    '0/001/002',
    '0/x001/x02/003',
    '0/x001',
    '0/X001/000',
    '0/-01',
    '0/x000/001',
    '0/',
    '0',
  ]) {
    assert.throws(() => parseTilePath(bad), invalid, bad);
  }
  for (const bad of [-1, 0.5, Number.NaN, 2 ** 53]) assert.throws(() => formatTileIndex(bad), invalid, String(bad));
});

test('"<L> ... MUST be a decimal ASCII integer between 0 and 63, with no additional leading zeroes"', () => {
  assert.deepEqual(parseTilePath('63/000'), { level: 63, index: 0, width: 256 });
  for (const bad of ['64/000', '01/000', '00/000', '-1/000', 'x/000', '/000', ' 1/000']) {
    assert.throws(() => parseTilePath(bad), invalid, bad);
  }
  for (const level of [64, -1, 1.5])
    assert.throws(() => formatTilePath({ level, index: 0, width: 256 }), invalid, String(level));
});

test('"<W> is the width of the tile, a decimal ASCII integer between 1 and 255, with no additional leading zeroes"', () => {
  assert.deepEqual(parseTilePath('0/000.p/1'), { level: 0, index: 0, width: 1 });
  for (const bad of ['0/000.p/0', '0/000.p/256', '0/000.p/007', '0/000.p/', 'entries/000.p', '0/000/']) {
    assert.throws(() => parseTilePath(bad), invalid, bad);
  }
  // A full tile has no `.p/256` spelling: "The .p/<W> suffix is only present for partial tiles".
  assert.equal(formatTilePath({ level: 0, index: 5, width: 256 }), '0/005');
  for (const width of [0, 257, 2.5])
    assert.throws(() => formatTilePath({ level: 0, index: 0, width }), invalid, String(width));
});

test('"<N> and .p/<W> have the same meaning as in Merkle Tree tile paths above" (entry bundles)', () => {
  assert.equal(formatTilePath({ level: 'entries', index: 1234067, width: 12 }), 'entries/x001/x234/067.p/12');
  assert.deepEqual(parseTilePath('entries/x001/x234/067.p/12'), { level: 'entries', index: 1234067, width: 12 });
  assert.throws(() => parseTilePath('entry/000'), invalid);
});

test('format and parse round-trip for every valid tile', () => {
  fc.assert(
    fc.property(
      fc.oneof(fc.integer({ min: 0, max: 63 }), fc.constant('entries' as const)),
      fc.maxSafeNat(),
      fc.integer({ min: 1, max: 256 }),
      (level, index, width) => {
        const t = { level, index, width };
        assert.deepEqual(parseTilePath(formatTilePath(t)), t);
      },
    ),
  );
});

test('the parser only ever throws its typed error on arbitrary input', () => {
  fc.assert(
    fc.property(fc.string({ unit: fc.constantFrom(...'0123456789x/.pentries'.split('')), maxLength: 30 }), (s) => {
      try {
        parseTilePath(s);
      } catch (e) {
        assert.ok(invalid(e));
      }
    }),
  );
});
