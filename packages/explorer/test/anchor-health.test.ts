import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AnchorTargetStatus } from '../src/api/types.ts';
import { anchorHealth } from '../src/model/anchor-health.ts';

const now = Date.parse('2026-12-06T00:10:00Z');
const base: AnchorTargetStatus = { target: 'rfc3161:local', kind: 'rfc3161', epoch_ms: 5000 };
const finalizedAgo = (ms: number, extra = {}) => ({
  ...base,
  last_finalized: { epoch: 1, finalized_at: new Date(now - ms).toISOString(), age_ms: ms, stale: false, ...extra },
});

test('on time within two epochs, late beyond while leaves wait, failing when stale', () => {
  assert.deepEqual(anchorHealth(finalizedAgo(4000), now), { health: 'ok', reasons: [], ageMs: 4000 });
  const late = anchorHealth({ ...finalizedAgo(10_001), pending_leaves: 2 }, now);
  assert.equal(late.health, 'warn');
  assert.deepEqual(late.reasons, ['2 leaves wait and the last anchor is older than two epochs (5 s each)']);
  assert.equal(anchorHealth(finalizedAgo(900_000), now).health, 'ok', 'nothing new to anchor: not late');
  assert.equal(anchorHealth(finalizedAgo(1000, { stale: true }), now).health, 'bad');
});

test('nothing finalized: unknown, or failing once attempts failed', () => {
  assert.equal(anchorHealth(base, now).health, 'unknown');
  const failing = anchorHealth({ ...base, failures: { total: 3, recent: [] } }, now);
  assert.equal(failing.health, 'bad');
  assert.deepEqual(failing.reasons, ['no epoch finalized yet; 3 failed attempts']);
});

test('a chain transaction missing from the chain is a warning', () => {
  const t = {
    ...finalizedAgo(1000),
    kind: 'eip155',
    chain: { in_flight: [{ epoch: 2, txid: '0xab', state: 'missing' }] },
  };
  assert.equal(anchorHealth(t, now).health, 'warn');
});
