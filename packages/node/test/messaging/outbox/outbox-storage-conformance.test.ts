import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import fc from 'fast-check';
import { type MessageDelivery, type Receipt } from '@vaultmesh/core';
import { streamKey, type OutboxRow, type RowUpdate } from '../../../src/messaging/outbox/outbox-row.js';
import type { DeliveryLane, OutboxStorage, StreamHead } from '../../../src/messaging/outbox/outbox-storage.js';
import { OUTBOX_DB_FILE } from '../../../src/messaging/outbox/outbox-store.js';
import { PgOutboxStorage } from '../../../src/messaging/outbox/pg-outbox-storage.js';
import { SqliteOutboxStorage } from '../../../src/messaging/outbox/sqlite-outbox-storage.js';
import type { WriteFence } from '../../../src/storage/postgres/write-fence.js';
import { forEachBackend, type StorePlace } from '../../storage/backend-suite.js';
import { code, LOST_LEASE } from '../../storage/conformance-checks.js';

/** The outbox storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, fence?: WriteFence): Promise<OutboxStorage> {
  if (place.kind === 'sqlite') return SqliteOutboxStorage.open(join(place.dir, OUTBOX_DB_FILE));
  return PgOutboxStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

function row(namespace: string, node: string, target: string, seq: number, index: number): OutboxRow {
  return {
    id: `${namespace}#${index}`.padStart(64, '0'),
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

const delivery = (index: number, withReceipt: boolean) => ({
  index,
  entry: { type: 'delivery', message_id: 'm', index } as unknown as MessageDelivery,
  ...(withReceipt ? { receipt: { leaf_index: index, note: 'é' } as unknown as Receipt } : {}),
});

function updateOf(r: OutboxRow, change: Partial<RowUpdate>): RowUpdate {
  return {
    id: r.id,
    state: r.state,
    attempts: r.attempts,
    nextAttemptMs: r.nextAttemptMs,
    receiptAttempts: r.receiptAttempts,
    ...change,
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

forEachBackend('OutboxStorage conformance', (freshPlace) => {
  test('recordSent adds new rows only, keeps what is held, and the rows survive reopen', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    const a1 = { ...row('a:x', 'n.test', 'b:x', 1, 0), inReplyTo: 'q'.repeat(64) };
    const a2 = row('a:x', 'n.test', 'b:x', 2, 1);
    assert.deepEqual(await s.recordSent([a1, a2]), [a1, a2]);
    const sameId = { ...a1, operation: 'other' };
    const sameSeq = { ...row('a:x', 'n.test', 'b:x', 2, 5) };
    const sameIndex = { ...row('a:x', 'n.test', 'b:y', 1, 1), id: 'f'.repeat(64) };
    const a3 = row('a:x', 'n.test', 'b:x', 3, 2);
    assert.deepEqual(await s.recordSent([sameId, sameSeq, sameIndex, a3, a3]), [a3], 'a row given twice is new once');
    await s.close();
    s = await openAt(place);
    try {
      assert.deepEqual(await s.row(a1.id), a1, 'the row as recorded, in_reply_to included');
      assert.deepEqual(await s.row(a2.id), a2);
      assert.equal(await s.row(sameIndex.id), undefined);
      assert.deepEqual(await s.streamSeqs(), [
        { namespace: 'a:x', target: { node: 'n.test', namespace: 'b:x' }, seq: 3 },
      ]);
    } finally {
      await s.close();
    }
  });

  test('scan marks move over ranges starting at or below them, in order, and never back', async () => {
    const s = await openAt(await freshPlace());
    try {
      assert.equal(await s.scanMark('a:x'), 0);
      await s.recordSent([], [{ namespace: 'a:x', from: 5, to: 9 }]);
      assert.equal(await s.scanMark('a:x'), 0, 'a range past the mark leaves a gap unscanned: no move');
      await s.recordSent(
        [],
        [
          { namespace: 'a:x', from: 0, to: 4 },
          { namespace: 'a:x', from: 4, to: 7 },
          { namespace: 'b:x', from: 0, to: 2 },
        ],
      );
      assert.equal(await s.scanMark('a:x'), 7, 'the second range follows the first within one call');
      assert.equal(await s.scanMark('b:x'), 2);
      await s.recordSent([], [{ namespace: 'a:x', from: 1, to: 3 }]);
      assert.equal(await s.scanMark('a:x'), 7, 'never lowered');
    } finally {
      await s.close();
    }
  });

  test('sealing, lanes, stream rows by seq with limit and after, and updates round-trip', async () => {
    const s = await openAt(await freshPlace());
    try {
      const rows = [0, 1, 2, 3].map((i) => row('a:x', 'n.test', 'b:x', i + 1, i));
      const other = row('c:x', 'n.test', 'b:x', 1, 0);
      await s.recordSent([...rows, other]);
      assert.deepEqual((await s.queuedNamespaces()).sort(), ['a:x', 'c:x']);
      assert.equal(await s.markSealed('a:x', 3, 1000), 3, 'indices below the size');
      assert.deepEqual(await s.queuedNamespaces().then((n) => n.sort()), ['a:x', 'c:x']);
      assert.equal(await s.markSealed('a:x', 3, 2000), 0, 'sealed rows are not sealed again');
      const stream = { namespace: 'a:x', target: { node: 'n.test', namespace: 'b:x' } };
      assert.deepEqual(await s.heads('deliver'), [{ ...stream, nextAttemptMs: 1000 }]);
      const sealed = rows.slice(0, 3).map((r) => ({ ...r, state: 'sealed' as const, nextAttemptMs: 1000 }));
      assert.deepEqual(await s.streamRows('deliver', stream, 10), sealed);
      assert.deepEqual(await s.streamRows('deliver', stream, 1, 1), [sealed[1]]);

      const d = delivery(40, false);
      const error = { code: 'RECEIPT_MISSING' as never, message: 'no receipt yet' };
      await s.update([
        updateOf(sealed[0]!, { state: 'delivered', attempts: 1, nextAttemptMs: 5000, delivery: d, error }),
        updateOf(sealed[1]!, { state: 'refused', attempts: 1, error: { code: 'FORBIDDEN' as never, message: 'no' } }),
        updateOf(sealed[2]!, { attempts: 1, nextAttemptMs: 3000 }),
        updateOf(sealed[2]!, { attempts: 2, nextAttemptMs: 4000 }),
      ]);
      assert.deepEqual(await s.row(rows[0]!.id), {
        ...sealed[0],
        state: 'delivered',
        attempts: 1,
        nextAttemptMs: 5000,
        delivery: d,
        error,
      });
      assert.deepEqual(
        await s.row(rows[2]!.id),
        { ...sealed[2], attempts: 2, nextAttemptMs: 4000 },
        'the last update wins',
      );
      assert.deepEqual(await s.heads('deliver'), [{ ...stream, nextAttemptMs: 4000 }]);
      assert.deepEqual(await s.heads('receipt'), [{ ...stream, nextAttemptMs: 5000 }]);
      assert.deepEqual(
        (await s.streamRows('receipt', stream, 10)).map((r) => r.id),
        [rows[0]!.id],
      );
      const withReceipt = delivery(40, true);
      await s.update([
        updateOf(sealed[0]!, { state: 'delivered', attempts: 1, receiptAttempts: 1, delivery: withReceipt }),
      ]);
      assert.deepEqual(await s.heads('receipt'), [], 'a receipt ends the receipt lane');
      assert.deepEqual((await s.row(rows[0]!.id))?.delivery, withReceipt);
      await s.update([]);
    } finally {
      await s.close();
    }
  });

  test('heads: streams whose keys extend another (a:x and a:xy, n.test and n.testa) are each found once', async () => {
    const s = await openAt(await freshPlace());
    try {
      await s.recordSent([
        row('a:x', 'n.test', 'b:x', 1, 0),
        row('a:x', 'n.test', 'b:x', 2, 1),
        row('a:x', 'n.testa', 'b:x', 1, 2),
        row('a:xy', 'n.test', 'b:x', 1, 3),
        row('a:X', 'n.test', 'b:x', 1, 4),
      ]);
      await s.markSealed('a:x', 3, 7);
      await s.markSealed('a:xy', 4, 9);
      await s.markSealed('a:X', 5, 5);
      assert.deepEqual(
        await s.heads('deliver'),
        [
          { namespace: 'a:X', target: { node: 'n.test', namespace: 'b:x' }, nextAttemptMs: 5 },
          { namespace: 'a:x', target: { node: 'n.test', namespace: 'b:x' }, nextAttemptMs: 7 },
          { namespace: 'a:x', target: { node: 'n.testa', namespace: 'b:x' }, nextAttemptMs: 7 },
          { namespace: 'a:xy', target: { node: 'n.test', namespace: 'b:x' }, nextAttemptMs: 9 },
        ],
        'byte order: upper case first, a prefix before its extensions',
      );
      assert.deepEqual(await s.heads('receipt'), []);
    } finally {
      await s.close();
    }
  });

  test('heads: one per stream with work in the lane, as a read of every row says', async () => {
    const streamArb = fc.record({
      namespace: fc.constantFrom('a:x', 'a:xy', 'b:x'),
      node: fc.constantFrom('n.test', 'n.testa', 'o.test'),
      target: fc.constantFrom('a:x', 'a:xy', 'b:x'),
    });
    const messageArb = fc.record({
      stream: streamArb,
      state: fc.constantFrom('queued', 'sealed', 'delivered-no-receipt', 'delivered', 'refused'),
      due: fc.integer({ min: 0, max: 1_000_000 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(messageArb, { maxLength: 40 }), async (messages) => {
        const s = await openAt(await freshPlace());
        try {
          const seqs = new Map<string, number>();
          const rows: OutboxRow[] = [];
          messages.forEach((m, index) => {
            const r = row(m.stream.namespace, m.stream.node, m.stream.target, 0, index);
            r.seq = (seqs.get(streamKey(r)) ?? 0) + 1;
            seqs.set(streamKey(r), r.seq);
            r.nextAttemptMs = m.due;
            if (m.state !== 'queued') r.state = m.state === 'delivered-no-receipt' ? 'delivered' : m.state;
            if (r.state === 'delivered') r.delivery = delivery(index, m.state === 'delivered');
            rows.push(r);
          });
          await s.recordSent(rows.map((r) => ({ ...r, state: 'queued' as const, nextAttemptMs: 0 })));
          await s.update(rows.map((r) => updateOf(r, r.delivery ? { delivery: r.delivery } : {})));
          for (const lane of ['deliver', 'receipt'] as const)
            assert.deepEqual(await s.heads(lane), expectedHeads(rows, lane), lane);
        } finally {
          await s.close();
        }
      }),
      { numRuns: 12 },
    );
  });

  test('replies are linked once and listed in id order', async () => {
    const s = await openAt(await freshPlace());
    try {
      await s.addReply('q', 'r2');
      await s.addReply('q', 'r1');
      await s.addReply('q', 'r2');
      await s.addReply('other', 'r3');
      assert.deepEqual(await s.replies('q'), ['r1', 'r2']);
      assert.deepEqual(await s.replies('none'), []);
    } finally {
      await s.close();
    }
  });

  test('a closed storage answers SHUTTING_DOWN', async () => {
    const s = await openAt(await freshPlace());
    await s.close();
    await s.close();
    await assert.rejects(s.row('x'), code('SHUTTING_DOWN'));
    await assert.rejects(s.recordSent([row('a:x', 'n.test', 'b:x', 1, 0)]), code('SHUTTING_DOWN'));
    await assert.rejects(s.heads('deliver'), code('SHUTTING_DOWN'));
  });

  test('two storages on one place recording the same rows at once: each row is new to exactly one', async () => {
    const place = await freshPlace();
    const [s1, s2] = [await openAt(place), await openAt(place)];
    try {
      const rows = Array.from({ length: 50 }, (_, i) => row('a:x', 'n.test', 'b:x', i + 1, i));
      const scanned = [{ namespace: 'a:x', from: 0, to: 50 }];
      const [x, y] = await Promise.all([s1.recordSent(rows, scanned), s2.recordSent([...rows].reverse(), scanned)]);
      assert.equal(x.length + y.length, rows.length);
      assert.deepEqual(new Set([...x, ...y].map((r) => r.id)), new Set(rows.map((r) => r.id)));
      assert.equal(await s1.scanMark('a:x'), 50);
    } finally {
      await s1.close();
      await s2.close();
    }
  });

  test('(PostgreSQL) a storage whose fence says LEASE_LOST writes nothing', async (t) => {
    const place = await freshPlace();
    if (place.kind !== 'postgres') {
      t.skip('one process per SQLite file: nothing to fence');
      return;
    }
    const plain = await openAt(place);
    const fenced = await openAt(place, LOST_LEASE);
    try {
      const r = row('a:x', 'n.test', 'b:x', 1, 0);
      await plain.recordSent([r]);
      await assert.rejects(
        fenced.recordSent([row('a:x', 'n.test', 'b:x', 2, 1)], [{ namespace: 'a:x', from: 0, to: 2 }]),
        code('LEASE_LOST'),
      );
      await assert.rejects(fenced.markSealed('a:x', 5, 1), code('LEASE_LOST'));
      await assert.rejects(fenced.update([updateOf(r, { state: 'refused', attempts: 3 })]), code('LEASE_LOST'));
      await assert.rejects(fenced.addReply('q', 'r'), code('LEASE_LOST'));
      assert.deepEqual(await plain.row(r.id), r);
      assert.equal(await plain.row(row('a:x', 'n.test', 'b:x', 2, 1).id), undefined);
      assert.equal(await plain.scanMark('a:x'), 0);
      assert.deepEqual(await plain.replies('q'), []);
      assert.deepEqual(await fenced.queuedNamespaces(), ['a:x'], 'reads are not fenced');
    } finally {
      await plain.close();
      await fenced.close();
    }
  });
});
