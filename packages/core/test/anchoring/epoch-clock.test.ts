import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, epochEndMs, epochNumber, epochStartMs } from '../../src/index.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250310);
const invalidArgument = (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT';

test('epochs are floor(ms / period), each [start, end) with end the next start', () => {
  assert.equal(epochNumber(0, 60_000), 0);
  assert.equal(epochNumber(59_999, 60_000), 0);
  assert.equal(epochNumber(60_000, 60_000), 1);
  assert.equal(epochNumber(1_740_830_400_000, 3_600_000), 483_564);
  assert.equal(epochStartMs(483_564, 3_600_000), 1_740_830_400_000);
  assert.equal(epochEndMs(483_564, 3_600_000), 1_740_834_000_000);
  assert.equal(epochEndMs(7, 1000), epochStartMs(8, 1000));
  assert.equal(epochNumber(Number.MAX_SAFE_INTEGER, 1), Number.MAX_SAFE_INTEGER);
});

test('every instant lies in exactly its epoch (fast-check, safe integers)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      fc.oneof(fc.integer({ min: 1, max: 86_400_000 }), fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })),
      (ms, period) => {
        const e = epochNumber(ms, period);
        assert.ok(Number.isSafeInteger(e));
        assert.ok(epochStartMs(e, period) <= ms, 'starts at or before the instant');
        // The end of the last epoch may lie beyond 2^53 ms: then it is refused, not rounded.
        try {
          assert.ok(ms < epochEndMs(e, period), 'ends after the instant');
        } catch (err) {
          assert.ok(invalidArgument(err), String(err));
          assert.ok((e + 1) * period > Number.MAX_SAFE_INTEGER);
        }
      },
    ),
    { numRuns: 2000, seed: SEED },
  );
});

test('non-integer, negative and out-of-range arguments are INVALID_ARGUMENT', () => {
  for (const [ms, period] of [
    [-1, 1000],
    [1.5, 1000],
    [Number.NaN, 1000],
    [2 ** 53, 1000],
    [0, 0],
    [0, -5],
    [0, 0.5],
    [0, Infinity],
  ] as const) {
    assert.throws(() => epochNumber(ms, period), invalidArgument, `${ms}, ${period}`);
  }
  for (const [epoch, period] of [
    [-1, 1000],
    [0.5, 1000],
    [1, 0],
    [2 ** 52, 4],
  ] as const) {
    assert.throws(() => epochStartMs(epoch, period), invalidArgument, `${epoch}, ${period}`);
    assert.throws(() => epochEndMs(epoch, period), invalidArgument, `${epoch}, ${period}`);
  }
  assert.throws(() => epochEndMs(Number.MAX_SAFE_INTEGER, 1), invalidArgument);
  assert.equal(epochStartMs(Number.MAX_SAFE_INTEGER, 1), Number.MAX_SAFE_INTEGER);
});
