import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { nextDueAfter } from '../../src/index.js';

test('nextDueAfter: the first slot strictly after now, missed slots skipped', () => {
  assert.equal(nextDueAfter(1000, 100, 0), 1100);
  assert.equal(nextDueAfter(1000, 100, 1000), 1100);
  assert.equal(nextDueAfter(1000, 100, 1099), 1100);
  assert.equal(nextDueAfter(1000, 100, 1100), 1200);
  assert.equal(nextDueAfter(1000, 100, 1_000_050), 1_000_100);
  assert.equal(nextDueAfter(0, 1, 0), 1);
});

test('nextDueAfter refuses non-integer, unsafe and non-positive inputs', () => {
  for (const [s, p, n] of [
    [0.5, 1, 0],
    [0, 0, 0],
    [0, -1, 0],
    [0, 1.5, 0],
    [0, 1, Number.NaN],
    [0, 1, Infinity],
    [Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER],
  ] as const) {
    assert.throws(() => nextDueAfter(s, p, n), { code: 'INVALID_ARGUMENT' });
  }
});

test('nextDueAfter is after now, congruent to start, and minimal (fast-check)', () => {
  const time = fc.integer({ min: -1e13, max: 1e13 });
  fc.assert(
    fc.property(time, fc.integer({ min: 1, max: 366 * 86_400_000 }), time, (start, period, now) => {
      const due = nextDueAfter(start, period, now);
      assert.ok(due > now);
      assert.ok(due > start);
      assert.equal((due - start) % period, 0);
      // minimal: the slot before is start itself or not after now
      assert.ok(due - period === start || due - period <= now);
    }),
    { numRuns: 5000 },
  );
});
