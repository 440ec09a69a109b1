import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SettledPrefixes } from '../../src/messaging/settled-prefixes.js';

// The outbox's and inbox's stream counts against their rows, on both backends, are in
// stream-counts-conformance.test.ts; this is the prefix bookkeeping they share.

test('a settled prefix takes only the next seq in a final state, and stops at the first that is not', () => {
  const p = new SettledPrefixes(['done', 'no'] as const);
  assert.equal(
    p.absorb('s', [
      { seq: 1, bucket: 'done' },
      { seq: 2, bucket: 'no' },
      { seq: 3, bucket: undefined },
      { seq: 4, bucket: 'done' },
    ]),
    2,
  );
  assert.deepEqual(p.get('s'), { through: 2, counts: { done: 1, no: 1 } });
  assert.equal(p.absorb('s', [{ seq: 4, bucket: 'done' }]), 0, 'seq 3 is missing: 4 is not next');
  assert.equal(
    p.absorb('s', [
      { seq: 3, bucket: 'done' },
      { seq: 4, bucket: 'done' },
    ]),
    2,
  );
  assert.deepEqual(p.get('s'), { through: 4, counts: { done: 3, no: 1 } });
  assert.deepEqual(p.get('other'), { through: 0, counts: { done: 0, no: 0 } });
});
