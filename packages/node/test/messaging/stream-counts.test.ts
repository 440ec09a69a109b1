import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { OutboxStore } from '../../src/messaging/outbox/outbox-store.js';
import type { OutboxRow } from '../../src/messaging/outbox/outbox-row.js';
import { OutboxStreamCounts } from '../../src/messaging/outbox/stream-counts.js';
import { SETTLE_CHUNK_ROWS, SettledPrefixes } from '../../src/messaging/settled-prefixes.js';
import type { MessageState } from '../../src/messaging/messaging-wire.js';

/*
 * The outbox's stream counts against a plain GROUP BY of the same file, over histories longer
 * than a catch-up step, before and after rows settle, with a message in flight in the middle of
 * a stream. Rows go in through the real OutboxStore.
 */

const root = mkdtempSync(join(tmpdir(), 'remembrancer-stream-counts-'));
after(() => rmSync(root, { recursive: true, force: true }));
const NOW = Date.parse('2026-06-01T00:00:00Z');

function row(
  ns: string,
  target: string,
  seq: number,
  state: MessageState,
  expiresAt = '2027-01-01T00:00:00Z',
): OutboxRow {
  return {
    id: `${ns}/${target}/${seq}`,
    namespace: ns,
    index: target === 'dao:y' ? 1_000_000 + seq : seq, // unique per source namespace
    target: { node: 'beta.test', namespace: target },
    seq,
    action: 'notify',
    operation: 'record',
    sentAt: '2026-01-01T00:00:00Z',
    expiresAt,
    state,
    attempts: 0,
    nextAttemptMs: 0,
    receiptAttempts: 0,
  };
}

/** What a read of every row says, pending rows past their expiry shown expired. */
function groupBy(path: string): Record<string, Record<string, number>> {
  const db = new Database(path, { readonly: true });
  try {
    const out: Record<string, Record<string, number>> = {};
    const rows = db
      .prepare('SELECT namespace, target_namespace, seq, state, expires_at FROM outbox_messages')
      .all() as Array<{ namespace: string; target_namespace: string; seq: number; state: string; expires_at: string }>;
    for (const r of rows) {
      const key = `${r.namespace}>${r.target_namespace}`;
      const c = (out[key] ??= { last_seq: 0, queued: 0, sealed: 0, delivered: 0, refused: 0, expired: 0 });
      c.last_seq = Math.max(c.last_seq!, r.seq);
      const pending = r.state === 'queued' || r.state === 'sealed';
      c[pending && NOW > Date.parse(r.expires_at) ? 'expired' : r.state]!++;
    }
    return out;
  } finally {
    db.close();
  }
}

async function counted(counts: OutboxStreamCounts): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const s of await counts.counts(NOW))
    out[`${s.namespace}>${s.target.namespace}`] = {
      last_seq: s.lastSeq,
      queued: s.queued,
      sealed: s.sealed,
      delivered: s.delivered,
      refused: s.refused,
      expired: s.expired,
    };
  return out;
}

test('counts agree with a read of every row, over several catch-up steps and as rows settle', async () => {
  const path = join(root, 'outbox.sqlite');
  const store = new OutboxStore(path);
  const long = SETTLE_CHUNK_ROWS * 2 + 300;
  const rows: OutboxRow[] = [];
  for (let seq = 1; seq <= long; seq++) {
    const state: MessageState =
      seq > long - 40 ? 'queued' : seq > long - 100 ? 'sealed' : seq % 97 === 0 ? 'refused' : 'delivered';
    rows.push(row('dao:a', 'dao:x', seq, state));
  }
  // A message in flight in the middle of a stream (its target answered the ones after it first).
  for (let seq = 1; seq <= 50; seq++) rows.push(row('dao:b', 'dao:x', seq, seq === 10 ? 'sealed' : 'delivered'));
  // Pending past its expiry.
  rows.push(row('dao:b', 'dao:y', 1, 'expired'), row('dao:b', 'dao:y', 2, 'queued', '2026-02-01T00:00:00Z'));
  store.recordSent(rows);
  const counts = new OutboxStreamCounts(path);
  try {
    const first = await counted(counts);
    assert.deepEqual(first, groupBy(path));
    const ax = first['dao:a>dao:x']!;
    assert.equal(ax['delivered']! + ax['refused']!, long - 100);
    assert.equal(first['dao:b>dao:y']!['expired'], 2);

    // Some settle, after the first read; more arrive.
    const settle = (r: OutboxRow, state: MessageState) => ({
      id: r.id,
      state,
      attempts: 1,
      nextAttemptMs: 0,
      receiptAttempts: 0,
    });
    store.update([
      ...rows
        .filter((r) => r.namespace === 'dao:a' && r.seq > long - 100 && r.seq <= long - 60)
        .map((r) => settle(r, 'delivered')),
      settle(
        rows.find((r) => r.namespace === 'dao:b' && r.seq === 10)!,
        'refused',
      ),
    ]);
    store.recordSent([row('dao:a', 'dao:x', long + 1, 'queued'), row('dao:c', 'dao:x', 1, 'queued')]);
    assert.deepEqual(await counted(counts), groupBy(path));
    // Concurrent callers share one catch-up and read the same.
    const [x, y] = await Promise.all([counted(counts), counted(counts)]);
    assert.deepEqual(x, y);
  } finally {
    counts.close();
    store.close();
  }
});

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
