import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRemembrancerError } from '@vaultmesh/core';
import { DEFAULT_BACKOFF, retryDelayMs } from '../../../src/messaging/outbox/retry-backoff.js';

const ALMOST_ONE = 1 - Number.EPSILON;

test('full jitter: from 0 up to base·2^(n−1), capped', () => {
  const bounds = [250, 500, 1000, 2000, 4000, 8000, 16000, 30000, 30000];
  bounds.forEach((bound, i) => {
    assert.equal(
      retryDelayMs(i + 1, DEFAULT_BACKOFF, () => 0),
      0,
    );
    assert.equal(
      retryDelayMs(i + 1, DEFAULT_BACKOFF, () => 0.5),
      bound / 2,
    );
    assert.equal(
      retryDelayMs(i + 1, DEFAULT_BACKOFF, () => ALMOST_ONE),
      bound - 1,
    );
  });
  assert.equal(
    retryDelayMs(5000, DEFAULT_BACKOFF, () => ALMOST_ONE),
    29_999,
    'no overflow for long outages',
  );
});

test('every delay is an integer within its bound, whatever the attempt and the draw', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 100_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 0, max: 1_000_000 }),
      (attempts, r, baseMs, extra) => {
        const capMs = baseMs + extra;
        const d = retryDelayMs(attempts, { baseMs, capMs }, () => r);
        assert.ok(Number.isSafeInteger(d) && d >= 0);
        assert.ok(d < Math.min(capMs, baseMs * 2 ** Math.min(attempts - 1, 60)) || d === 0);
      },
    ),
  );
});

test('a random source outside [0, 1) draws 0; bad attempts or options are refused', () => {
  for (const r of [1, -0.5, Number.NaN, 7])
    assert.equal(
      retryDelayMs(3, DEFAULT_BACKOFF, () => r),
      0,
    );
  for (const attempts of [0, -1, 1.5, Number.NaN])
    assert.throws(
      () => retryDelayMs(attempts, DEFAULT_BACKOFF),
      (e: unknown) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );
  for (const o of [
    { baseMs: 0, capMs: 10 },
    { baseMs: 10, capMs: 5 },
    { baseMs: 10, capMs: Number.POSITIVE_INFINITY },
  ])
    assert.throws(
      () => retryDelayMs(1, o),
      (e: unknown) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );
});
