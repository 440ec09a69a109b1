import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { RateLimitedError, RateLimiter, type RateLimits } from '../../src/namespaces/rate-limiter.js';

const limits = (
  rate: number | null,
  burst: number | null = rate === null ? null : Math.max(1, Math.ceil(rate)),
): RateLimits => ({
  rate_per_second: rate,
  burst,
});

/** Runs fn, which must throw RateLimitedError; returns it. */
function refused(fn: () => void): RateLimitedError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RateLimitedError, String(e));
    return e;
  }
  assert.fail('expected RATE_LIMITED');
}

describe('RateLimiter', () => {
  test('a new bucket is full: burst entries pass at once, the next one is refused with RATE_LIMITED', () => {
    const r = new RateLimiter();
    r.take('t:a', 3, limits(2, 4), 0);
    r.take('t:a', 1, limits(2, 4), 0);
    const e = refused(() => r.take('t:a', 1, limits(2, 4), 0));
    assert.ok(e instanceof RemembrancerError);
    assert.ok(isRemembrancerError(e, 'RATE_LIMITED'));
    assert.equal(e.retryAfterSeconds, 1);
    assert.match(e.message, /2 entries per second \(burst 4\)/);
  });

  test('refills continuously at the rate, never beyond the burst', () => {
    const r = new RateLimiter();
    const l = limits(2, 4);
    r.take('t:a', 4, l, 0);
    r.take('t:a', 1, l, 500); // half a second earns one token
    refused(() => r.take('t:a', 1, l, 500));
    r.take('t:a', 1, l, 1000);
    // A long idle time fills the bucket to the burst, not more.
    r.take('t:a', 4, l, 1_000_000);
    refused(() => r.take('t:a', 1, l, 1_000_000));
  });

  test('a refusal consumes nothing', () => {
    const r = new RateLimiter();
    const l = limits(1, 4);
    r.take('t:a', 3, l, 0);
    refused(() => r.take('t:a', 2, l, 0));
    r.take('t:a', 1, l, 0);
  });

  test('retryAfterSeconds is the wait until enough tokens exist, rounded up, at least 1', () => {
    const r = new RateLimiter();
    r.take('t:slow', 1, limits(0.5, 1), 0);
    assert.equal(refused(() => r.take('t:slow', 1, limits(0.5, 1), 0)).retryAfterSeconds, 2);
    assert.equal(refused(() => r.take('t:slow', 1, limits(0.5, 1), 1500)).retryAfterSeconds, 1);
    r.take('t:fast', 100, limits(100, 100), 0);
    assert.equal(refused(() => r.take('t:fast', 50, limits(100, 100), 0)).retryAfterSeconds, 1);
    r.take('t:mid', 10, limits(2, 10), 0);
    assert.equal(refused(() => r.take('t:mid', 7, limits(2, 10), 0)).retryAfterSeconds, 4); // 3.5 s
  });

  test('a request larger than the burst can never pass: refused, saying so, consuming nothing', () => {
    const r = new RateLimiter();
    const e = refused(() => r.take('t:a', 11, limits(5, 10), 0));
    assert.match(e.message, /at most 10 entries.*can never pass/);
    assert.equal(e.retryAfterSeconds, 2); // the time to fill the bucket
    r.take('t:a', 10, limits(5, 10), 0);
  });

  test('namespaces have separate buckets', () => {
    const r = new RateLimiter();
    r.take('t:a', 2, limits(1, 2), 0);
    r.take('t:b', 2, limits(1, 2), 0);
    refused(() => r.take('t:a', 1, limits(1, 2), 0));
  });

  test('a changed limit applies at once: tokens capped at the new burst, the new rate from now on', () => {
    const r = new RateLimiter();
    r.take('t:a', 1, limits(10, 100), 0); // 99 left
    refused(() => r.take('t:a', 3, limits(1, 2), 0));
    r.take('t:a', 2, limits(1, 2), 0);
    refused(() => r.take('t:a', 1, limits(1, 2), 0));
    r.take('t:a', 1, limits(1, 2), 1000);
    // Raising the burst does not gift tokens; the higher rate refills faster.
    refused(() => r.take('t:a', 1, limits(100, 100), 1000));
    r.take('t:a', 50, limits(100, 100), 1500);
  });

  test('null limits mean unlimited and drop the bucket; forget() drops it too', () => {
    const r = new RateLimiter();
    for (let i = 0; i < 1000; i++) r.take('t:a', 1000, limits(null), 0);
    r.take('t:a', 2, limits(1, 2), 0);
    refused(() => r.take('t:a', 1, limits(1, 2), 0));
    r.forget('t:a');
    r.take('t:a', 2, limits(1, 2), 0);
    r.take('t:a', 1, limits(null), 0);
    r.take('t:a', 2, limits(1, 2), 0); // a fresh, full bucket
  });

  test('a rate without a burst gets max(1, ceil(rate))', () => {
    const r = new RateLimiter();
    r.take('t:a', 3, limits(2.5, null), 0);
    refused(() => r.take('t:a', 1, limits(2.5, null), 0));
    r.take('t:b', 1, limits(0.2, null), 0);
    refused(() => r.take('t:b', 1, limits(0.2, null), 0));
  });

  test('a clock that steps back earns nothing', () => {
    const r = new RateLimiter();
    r.take('t:a', 2, limits(1, 2), 10_000);
    refused(() => r.take('t:a', 1, limits(1, 2), 0));
    refused(() => r.take('t:a', 1, limits(1, 2), 10_500));
    r.take('t:a', 1, limits(1, 2), 11_000);
  });

  test('the clock is injectable (performance.now by default)', () => {
    let now = 0;
    const r = new RateLimiter({ now: () => now });
    r.take('t:a', 1, limits(1, 1));
    refused(() => r.take('t:a', 1, limits(1, 1)));
    now = 1000;
    r.take('t:a', 1, limits(1, 1));
    new RateLimiter().take('t:a', 1, limits(1, 1));
  });

  test('bad costs and limits are INVALID_ARGUMENT', () => {
    const r = new RateLimiter();
    for (const cost of [-1, 1.5, NaN, Infinity]) {
      assert.throws(
        () => r.take('t:a', cost, limits(1, 1), 0),
        (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
      );
    }
    for (const l of [limits(0, 1), limits(-1, 1), limits(NaN, 1), limits(1, 0), limits(1, 1.5)]) {
      assert.throws(
        () => r.take('t:a', 1, l, 0),
        (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
      );
    }
    r.take('t:a', 0, limits(1, 1), 0);
  });

  test('property: over any run, admitted entries ≤ burst + rate × elapsed; retrying after retryAfterSeconds passes', () => {
    const step = fc.record({ dt: fc.integer({ min: 0, max: 3000 }), cost: fc.integer({ min: 0, max: 12 }) });
    fc.assert(
      fc.property(
        fc.double({ min: 0.1, max: 50, noNaN: true }),
        fc.integer({ min: 1, max: 10 }),
        fc.array(step, { maxLength: 60 }),
        (rate, burst, steps) => {
          const l = limits(rate, burst);
          const r = new RateLimiter();
          let now = 0;
          let admitted = 0;
          const history: { now: number; cost: number }[] = [];
          for (const { dt, cost } of steps) {
            now += dt;
            try {
              r.take('t:p', cost, l, now);
              admitted += cost;
            } catch (e) {
              assert.ok(e instanceof RateLimitedError);
              assert.ok(e.retryAfterSeconds >= 1 && Number.isInteger(e.retryAfterSeconds));
              if (cost <= burst) {
                // The same history replayed, then the same request after the advertised wait: admitted.
                const replay = new RateLimiter();
                for (const h of history) {
                  try {
                    replay.take('t:p', h.cost, l, h.now);
                  } catch {
                    // refused then too
                  }
                }
                replay.take('t:p', cost, l, now + e.retryAfterSeconds * 1000);
              }
            }
            history.push({ now, cost });
            assert.ok(admitted <= burst + (rate * now) / 1000 + 1e-6, `${admitted} admitted by ${now} ms`);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
