import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LatencyHistogram } from '../../src/metrics/latency-histogram.js';
import { SeriesRing } from '../../src/metrics/series-ring.js';

test('a series ring keeps the newest samples, oldest first, and never more than its capacity', () => {
  const ring = new SeriesRing<number>(3);
  assert.deepEqual(ring.toArray(), []);
  ring.push(1);
  ring.push(2);
  assert.deepEqual(ring.toArray(), [1, 2]);
  assert.equal(ring.size, 2);
  ring.push(3);
  ring.push(4);
  assert.deepEqual(ring.toArray(), [2, 3, 4]);
  for (let i = 5; i <= 1000; i++) ring.push(i);
  assert.equal(ring.size, 3);
  assert.deepEqual(ring.toArray(), [998, 999, 1000]);
});

test('a series ring of one holds the last sample', () => {
  const ring = new SeriesRing<string>(1);
  ring.push('a');
  ring.push('b');
  assert.deepEqual(ring.toArray(), ['b']);
});

test('a series ring refuses a capacity below one or not an integer', () => {
  assert.throws(() => new SeriesRing(0), RangeError);
  assert.throws(() => new SeriesRing(2.5), RangeError);
});

test('the latency histogram reads quantiles within its bucket width and the exact maximum', () => {
  const h = new LatencyHistogram();
  assert.equal(h.quantile(0.5), null);
  assert.equal(h.max(), null);
  for (let ms = 1; ms <= 1000; ms++) h.observe(ms);
  const p50 = h.quantile(0.5)!;
  assert.ok(p50 >= 500 && p50 <= 500 * 1.05, `p50 ${p50}`);
  const p99 = h.quantile(0.99)!;
  assert.ok(p99 >= 990 && p99 <= 1000, `p99 ${p99}`);
  assert.equal(h.max(), 1000);
  assert.equal(h.count, 1000);
  h.reset();
  assert.equal(h.count, 0);
  h.observe(737);
  assert.equal(h.quantile(0.5), 737, 'one observation reads back as itself');
  h.observe(-5);
  h.observe(0.2);
  assert.equal(h.quantile(0.01), 1, 'zero, negative and sub-millisecond values share the first bucket');
  h.observe(1e12);
  assert.equal(h.max(), 1e12, 'beyond the last bucket still counts, and the maximum is exact');
});

test('newest() is the sample pushed last, across the wrap', () => {
  const ring = new SeriesRing<number>(2);
  assert.equal(ring.newest(), undefined);
  ring.push(1);
  assert.equal(ring.newest(), 1);
  ring.push(2);
  ring.push(3);
  assert.equal(ring.newest(), 3);
});
