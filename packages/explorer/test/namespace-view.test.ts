import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { NamespaceInfo } from '../src/api/types.ts';
import { checkpointAgeMs, nextDue, sealView } from '../src/model/namespace-view.ts';
import { parseSearch } from '../src/model/leaf-search.ts';

const ns: NamespaceInfo = { id: 'dao:x', origin: 'a/dao:x', log_vkey: 'k', size: 3, checkpoint_size: 3 };

test('sealed by whom, not sealed with how many, or no checkpoint', () => {
  assert.deepEqual(sealView(ns), { health: 'unknown', text: 'no checkpoint yet' });
  const cp = {
    size: 3,
    signed_at: '2026-12-06T00:00:00Z',
    sealed: true,
    cosigners: ['beta', 'gamma'],
    min_required: 1,
  };
  assert.equal(sealView({ ...ns, checkpoint: cp }).text, 'sealed by beta, gamma (1 required)');
  assert.equal(
    sealView({ ...ns, checkpoint: { ...cp, cosigners: [], min_required: 0 } }).text,
    'sealed by the log signature (no witnesses required)',
  );
  const open = sealView({
    ...ns,
    checkpoint: { ...cp, sealed: false, cosigners: ['beta'], min_required: 2 },
    sealed_checkpoint: { size: 2, signed_at: '2026-12-05T23:59:00Z' },
  });
  assert.equal(open.health, 'warn');
  assert.equal(open.text, 'not sealed: 1 of 2 required cosigned; newest sealed checkpoint has size 2');
  assert.equal(checkpointAgeMs({ ...ns, checkpoint: cp }, Date.parse('2026-12-06T00:00:05Z')), 5000);
});

test('the soonest cadence level is next due', () => {
  const s = (next: string) => ({ target: 't', every: '5s', period_ms: 5000, confirmations: 0, next_due: next });
  assert.equal(nextDue(ns), undefined);
  assert.deepEqual(
    nextDue({ ...ns, cadence_schedule: { slow: s('2026-12-06T01:00:00Z'), fast: s('2026-12-06T00:00:05Z') } }),
    {
      level: 'fast',
      target: 't',
      at: '2026-12-06T00:00:05Z',
    },
  );
});

test('search takes an index, a hex or base64 leaf hash, and refuses the rest before any request', () => {
  assert.deepEqual(parseSearch(' 42 '), { kind: 'index', index: 42 });
  const hex = 'ab'.repeat(32);
  assert.deepEqual(parseSearch(hex.toUpperCase()), { kind: 'leaf', hex });
  assert.deepEqual(parseSearch('0'.repeat(64)), { kind: 'leaf', hex: '0'.repeat(64) }, 'all digits is still a hash');
  const b64 = Buffer.from(hex, 'hex').toString('base64');
  assert.deepEqual(parseSearch(b64), { kind: 'leaf', hex });
  assert.deepEqual(parseSearch(b64.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, '')), { kind: 'leaf', hex });
  for (const bad of ['', '-1', '1.5', 'abc', 'ab'.repeat(31), '99999999999999999999'])
    assert.equal(parseSearch(bad).kind, 'invalid', bad);
});

test('property: every 32-byte hash in either text form finds the same hex', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (bytes) => {
      const hex = Buffer.from(bytes).toString('hex');
      assert.deepEqual(parseSearch(hex), { kind: 'leaf', hex });
      assert.deepEqual(parseSearch(Buffer.from(bytes).toString('base64')), { kind: 'leaf', hex });
    }),
  );
});
