import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { streamKey, type OutboxRow, type RowUpdate } from '../../../src/messaging/outbox/outbox-row.js';
import { OutboxStore, type StreamHead } from '../../../src/messaging/outbox/outbox-store.js';
import type { DeliveryLane } from '../../../src/messaging/outbox/outbox-store.js';

// OutboxStore.heads: each stream with work in a lane, once, in stream order, with the due time of
// its first message in that lane. It seeks from stream to stream; these tests hold it to what a
// read of every row says, with stream keys that share prefixes (the seek's boundaries).

const NAMESPACES = ['a:x', 'a:xy', 'b:x'];
const NODES = ['n.test', 'n.testa', 'o.test'];

function row(namespace: string, node: string, target: string, seq: number, index: number): OutboxRow {
  return {
    id: `${index}`.padStart(64, '0'),
    namespace,
    index,
    target: { node, namespace: target },
    seq,
    action: 'notify',
    operation: 'op',
    sentAt: '2026-12-05T00:00:00.000Z',
    expiresAt: '2026-12-06T00:00:00.000Z',
    state: 'queued',
    attempts: 0,
    nextAttemptMs: 0,
    receiptAttempts: 0,
  };
}

/** What heads() must answer, from every row: per stream in the lane, the row of the least seq. */
function expectedHeads(rows: readonly OutboxRow[], lane: DeliveryLane): StreamHead[] {
  const inLane = rows.filter((r) =>
    lane === 'deliver' ? r.state === 'sealed' : r.state === 'delivered' && r.delivery?.receipt === undefined,
  );
  const first = new Map<string, OutboxRow>();
  for (const r of inLane) {
    const k = streamKey(r);
    if (!first.has(k) || first.get(k)!.seq > r.seq) first.set(k, r);
  }
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...first.values()]
    .sort(
      (a, b) =>
        cmp(a.namespace, b.namespace) ||
        cmp(a.target.node, b.target.node) ||
        cmp(a.target.namespace, b.target.namespace),
    )
    .map((r) => ({ namespace: r.namespace, target: r.target, nextAttemptMs: r.nextAttemptMs }));
}

const streamArb = fc.record({
  namespace: fc.constantFrom(...NAMESPACES),
  node: fc.constantFrom(...NODES),
  target: fc.constantFrom(...NAMESPACES),
});
const messageArb = fc.record({
  stream: streamArb,
  state: fc.constantFrom('queued', 'sealed', 'delivered-no-receipt', 'delivered', 'refused'),
  due: fc.integer({ min: 0, max: 1_000_000 }),
});

test('heads: one per stream with work in the lane, in stream order, with its first message due time', () => {
  fc.assert(
    fc.property(fc.array(messageArb, { maxLength: 60 }), (messages) => {
      const store = new OutboxStore(':memory:');
      try {
        const seqs = new Map<string, number>();
        const rows: OutboxRow[] = [];
        const updates: RowUpdate[] = [];
        messages.forEach((m, index) => {
          const r = row(m.stream.namespace, m.stream.node, m.stream.target, 0, index);
          const seq = (seqs.get(streamKey(r)) ?? 0) + 1;
          seqs.set(streamKey(r), seq);
          r.seq = seq;
          r.nextAttemptMs = m.due;
          if (m.state !== 'queued') {
            r.state = m.state === 'delivered-no-receipt' ? 'delivered' : m.state;
            if (r.state === 'delivered') {
              r.delivery = {
                index,
                entry: {} as never,
                ...(m.state === 'delivered' ? { receipt: {} as never } : {}),
              };
            }
          }
          rows.push(r);
          updates.push({
            id: r.id,
            state: r.state,
            attempts: 0,
            nextAttemptMs: r.nextAttemptMs,
            receiptAttempts: 0,
            ...(r.delivery ? { delivery: r.delivery } : {}),
          });
        });
        store.recordSent(rows.map((r) => ({ ...r, state: 'queued' as const })));
        store.update(updates);
        for (const lane of ['deliver', 'receipt'] as const)
          assert.deepEqual(store.heads(lane), expectedHeads(rows, lane), lane);
      } finally {
        store.close();
      }
    }),
    { numRuns: 200 },
  );
});

test('heads: streams whose keys extend another (a:x and a:xy, n.test and n.testa) are each found once', () => {
  const store = new OutboxStore(':memory:');
  try {
    const rows = [
      row('a:x', 'n.test', 'b:x', 1, 0),
      row('a:x', 'n.test', 'b:x', 2, 1),
      row('a:x', 'n.testa', 'b:x', 1, 2),
      row('a:xy', 'n.test', 'b:x', 1, 3),
    ];
    store.recordSent(rows);
    store.markSealed('a:x', 3, 7);
    store.markSealed('a:xy', 4, 9);
    assert.deepEqual(store.heads('deliver'), [
      { namespace: 'a:x', target: { node: 'n.test', namespace: 'b:x' }, nextAttemptMs: 7 },
      { namespace: 'a:x', target: { node: 'n.testa', namespace: 'b:x' }, nextAttemptMs: 7 },
      { namespace: 'a:xy', target: { node: 'n.test', namespace: 'b:x' }, nextAttemptMs: 9 },
    ]);
    assert.deepEqual(store.heads('receipt'), []);
  } finally {
    store.close();
  }
});
