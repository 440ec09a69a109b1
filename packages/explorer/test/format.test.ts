import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAge, formatCount, formatDuration, formatRate, formatUtc, shortHash } from '../src/model/format.ts';

test('durations read as people say them, from ms to days', () => {
  assert.equal(formatDuration(0), '0 ms');
  assert.equal(formatDuration(850.4), '850 ms');
  assert.equal(formatDuration(12_345), '12 s');
  assert.equal(formatDuration(60_000), '1 min');
  assert.equal(formatDuration(245_000), '4 min 5 s');
  assert.equal(formatDuration(3 * 3_600_000 + 2 * 60_000), '3 h 2 min');
  assert.equal(formatDuration(52 * 3_600_000), '2 d 4 h');
  assert.equal(formatDuration(-1500), '−1 s');
  assert.equal(formatDuration(Number.NaN), '—');
});

test('ages are relative to the given clock, future times say "in"', () => {
  const now = Date.parse('2026-12-06T00:00:10Z');
  assert.equal(formatAge('2026-12-06T00:00:00Z', now), '10 s ago');
  assert.equal(formatAge('2026-12-06T00:00:13Z', now), 'in 3 s');
  assert.equal(formatAge(null, now), 'never');
  assert.equal(formatAge('not a time', now), 'unknown');
});

test('counts, rates, hashes and UTC times', () => {
  assert.equal(formatCount(1234567), '1,234,567');
  assert.equal(formatCount(undefined), '—');
  assert.equal(formatRate(12.34), '12.3/s');
  assert.equal(formatRate(2500), '2,500/s');
  assert.equal(shortHash('abcdefghijklmnop', 4), 'abcd…');
  assert.equal(shortHash('abcde', 4), 'abcde');
  assert.equal(formatUtc('2026-12-06T00:07:10.407Z'), '2026-12-06 00:07:10 UTC');
  assert.equal(formatUtc(undefined), '—');
});
