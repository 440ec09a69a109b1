import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRemembrancerError } from '@vaultmesh/core';
import { formatTileIndex, formatTilePath, parseTilePath } from '../../src/http/tile-path.js';

test('C2SP tile index encoding (https://c2sp.org/tlog-tiles)', () => {
  assert.equal(formatTileIndex(0), '000');
  assert.equal(formatTileIndex(999), '999');
  assert.equal(formatTileIndex(1000), 'x001/000');
  assert.equal(formatTileIndex(1234067), 'x001/x234/067');
  assert.deepEqual(parseTilePath('0/x001/x234/067'), { level: 0, index: 1234067, width: 256 });
  assert.deepEqual(parseTilePath('2/000.p/7'), { level: 2, index: 0, width: 7 });
  assert.deepEqual(parseTilePath('entries/x001/234.p/255'), { level: 'entries', index: 1234, width: 255 });
});

test('non-canonical tile paths are rejected', () => {
  for (const bad of ['', '0', '0/', '0/1', '0/0001', '0/001/002', '0/x000/001', 'x/000', '64/000', '01/000', '0/000.p/0', '0/000.p/256', '0/000.p/007', '0/000.p/', 'entries/000.p', '-1/000', '0/000/']) {
    assert.throws(() => parseTilePath(bad), (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'), bad);
  }
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
        assert.ok(isRemembrancerError(e, 'INVALID_ARGUMENT'));
      }
    }),
  );
});
