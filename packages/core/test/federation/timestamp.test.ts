import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isUtcTimestamp } from '../../src/index.js';
import { compareUtcTimestamps } from '../../src/federation/index.js';

test('isUtcTimestamp: RFC 3339 in UTC, real calendar days only', () => {
  for (const ok of [
    '2025-01-31T12:00:00Z',
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:59.999999999Z',
    '2025-12-31T23:59:59.5Z',
    new Date(0).toISOString(),
  ]) {
    assert.ok(isUtcTimestamp(ok), ok);
  }
  for (const bad of [
    '2025-02-29T00:00:00Z',
    '1900-02-29T00:00:00Z',
    '2025-04-31T00:00:00Z',
    '2025-13-01T00:00:00Z',
    '2025-01-01T24:00:00Z',
    '2025-06-30T23:59:60Z',
    '2025-01-01T00:00:00+00:00',
    '2025-01-01t00:00:00z',
    '2025-01-01T00:00Z',
    '2025-01-01T00:00:00.Z',
    '2025-01-01T00:00:00.1234567890Z',
    ' 2025-01-01T00:00:00Z',
    20250101,
    null,
  ]) {
    assert.ok(!isUtcTimestamp(bad), String(bad));
  }
});

test('compareUtcTimestamps orders by instant, whatever the fraction digits', () => {
  assert.equal(compareUtcTimestamps('2025-01-01T00:00:00Z', '2025-01-01T00:00:00.000Z'), 0);
  assert.equal(compareUtcTimestamps('2025-01-01T00:00:00.1Z', '2025-01-01T00:00:00.099999999Z'), 1);
  assert.equal(compareUtcTimestamps('2024-12-31T23:59:59.9Z', '2025-01-01T00:00:00Z'), -1);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 253402300799999 }), fc.integer({ min: 0, max: 253402300799999 }), (x, y) => {
      const a = new Date(x).toISOString();
      const b = new Date(y).toISOString();
      assert.ok(isUtcTimestamp(a) && isUtcTimestamp(b));
      assert.equal(compareUtcTimestamps(a, b), Math.sign(x - y));
    }),
  );
});
