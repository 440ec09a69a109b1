import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { InboxRow, NewInboxRow } from '../../../src/messaging/inbox/inbox-record.js';
import type { InboxStorage, InboxTransition } from '../../../src/messaging/inbox/inbox-storage.js';
import { INBOX_DB_FILE } from '../../../src/messaging/inbox/inbox-store.js';
import { PgInboxStorage } from '../../../src/messaging/inbox/pg-inbox-storage.js';
import { SqliteInboxStorage } from '../../../src/messaging/inbox/sqlite-inbox-storage.js';
import type { WriteFence } from '../../../src/storage/postgres/write-fence.js';
import { forEachBackend, type StorePlace } from '../../storage/backend-suite.js';
import { code, LOST_LEASE } from '../../storage/conformance-checks.js';
import { inboxOffer, offerKey as key } from './inbox-offers.js';

/** The inbox storage of the place's backend; the same place opens the same state again. */
async function openAt(place: StorePlace, fence?: WriteFence): Promise<InboxStorage> {
  if (place.kind === 'sqlite') return SqliteInboxStorage.open(join(place.dir, INBOX_DB_FILE));
  return PgInboxStorage.open({ db: place.url, ...(fence === undefined ? {} : { fence }) });
}

const NS = 'dao:b';
const SRC = 'alpha.test/dao:a';

const msg = (seq: number, sourceIndex = seq + 100, origin = SRC, namespace = NS): NewInboxRow =>
  inboxOffer(seq, sourceIndex, origin, namespace, 'é');

const held = (m: NewInboxRow): InboxRow => ({ ...m, state: 'held' });
/** Applies messages the way the inbox does: intents, then outcomes, the stream moved past them. */
async function apply(s: InboxStorage, ms: readonly NewInboxRow[], listed = true): Promise<void> {
  await s.settle({
    namespace: NS,
    transitions: ms.map((m) => ({ ...key(m), to: 'applying', delivery: `d${m.seq}` })),
    advance: [],
  });
  await s.settle({
    namespace: NS,
    transitions: ms.map((m) => ({
      ...key(m),
      to: 'applied',
      delivery: `d${m.seq}`,
      deliveryIndex: m.seq * 10,
      listed,
    })),
    advance: [...new Set(ms.map((m) => m.sourceOrigin))],
  });
}

forEachBackend('InboxStorage conformance', (freshPlace) => {
  test('admit: held, known, seq taken and past, decided in order; rows read back the same after reopen', async () => {
    const place = await freshPlace();
    let s = await openAt(place);
    const [m1, m2, m3] = [msg(1), msg(2), msg(3)];
    assert.deepEqual(await s.admit(NS, SRC, [m1, m2]), [{ kind: 'held' }, { kind: 'held' }]);
    await apply(s, [m1]);
    assert.deepEqual(
      await s.admit(NS, SRC, [
        m2,
        { ...m2, messageId: 'other' },
        msg(2, 500),
        msg(1, 501),
        m3,
        msg(3, 502),
        { ...m3, messageId: 'again' },
      ]),
      [
        { kind: 'known', messageId: m2.messageId },
        { kind: 'known', messageId: m2.messageId },
        { kind: 'seq-taken', sourceIndex: m2.sourceIndex },
        { kind: 'seq-taken', sourceIndex: m1.sourceIndex },
        { kind: 'held' },
        { kind: 'seq-taken', sourceIndex: m3.sourceIndex },
        { kind: 'known', messageId: m3.messageId },
      ],
      'earlier messages of the same batch count as stored',
    );
    assert.deepEqual(await s.admit(NS, SRC, []), []);
    await s.close();
    s = await openAt(place);
    try {
      assert.deepEqual(await s.get(SRC, m2.sourceIndex), held(m2));
      assert.deepEqual(await s.bySeq(NS, SRC, 3), held(m3));
      assert.equal(await s.messageIdAt(SRC, m3.sourceIndex), m3.messageId);
      assert.equal(await s.messageIdAt(SRC, 999), undefined);
      assert.equal(await s.get(SRC, 502), undefined, 'refused offers are stored nowhere');
      assert.deepEqual(await s.streamFrom(NS, SRC, 2, 10), [held(m2), held(m3)]);
      assert.deepEqual(await s.streamFrom(NS, SRC, 1, 1), [
        { ...m1, state: 'applied', delivery: 'd1', deliveryIndex: 10 },
      ]);
      assert.equal(await s.nextSeq(NS, SRC), 2);
      assert.equal(await s.nextSeq(NS, 'never.test/x'), 1);
      assert.deepEqual(await s.admit(NS, SRC, [msg(1, 600)]), [{ kind: 'seq-taken', sourceIndex: m1.sourceIndex }]);
    } finally {
      await s.close();
    }
  });

  test('streams are per target namespace; offers out of order are held and applied in seq order', async () => {
    const s = await openAt(await freshPlace());
    try {
      await s.admit(NS, SRC, [msg(1)]);
      await apply(s, [msg(1)]);
      assert.deepEqual(await s.admit('dao:c', SRC, [msg(1, 700, SRC, 'dao:c')]), [{ kind: 'held' }]);
      assert.equal(await s.nextSeq('dao:c', SRC), 1);
      // Advancing a stream with nothing new to settle changes nothing.
      await s.settle({ namespace: NS, transitions: [], advance: [SRC] });
      assert.deepEqual(await s.admit(NS, SRC, [msg(3), msg(2)]), [{ kind: 'held' }, { kind: 'held' }]);
      await apply(s, [msg(2), msg(3)]);
      assert.equal(await s.nextSeq(NS, SRC), 4);
    } finally {
      await s.close();
    }
  });

  test('settle: applied rows listed as items in order, the stream moves to the first gap or unsettled row', async () => {
    const s = await openAt(await freshPlace());
    try {
      const ms = [1, 2, 3, 4, 6].map((q) => msg(q));
      await s.admit(NS, SRC, ms);
      await apply(s, ms.slice(0, 2), true);
      assert.equal(await s.nextSeq(NS, SRC), 3);
      await s.settle({
        namespace: NS,
        transitions: [{ ...key(ms[2]!), to: 'refused', code: 'MESSAGE_EXPIRED', message: 'late' }],
        advance: [SRC],
      });
      assert.equal(await s.nextSeq(NS, SRC), 4);
      await apply(s, [ms[4]!], false);
      assert.equal(await s.nextSeq(NS, SRC), 4, 'seq 4 is held: the stream waits');
      await apply(s, [ms[3]!], true);
      assert.equal(await s.nextSeq(NS, SRC), 5, 'seq 5 never came: a gap');
      assert.deepEqual((await s.get(SRC, ms[2]!.sourceIndex))?.error, { code: 'MESSAGE_EXPIRED', message: 'late' });
      const items = await s.items(NS, 0, 10);
      assert.deepEqual(
        items.map((i) => i.row.seq),
        [1, 2, 4],
      );
      assert.ok(items[0]!.cursor < items[1]!.cursor && items[1]!.cursor < items[2]!.cursor);
      assert.deepEqual(items[0]!.row, { ...ms[0]!, state: 'applied', delivery: 'd1', deliveryIndex: 10 });
      assert.deepEqual(await s.items(NS, items[0]!.cursor, 1), [items[1]]);
      assert.equal(await s.lastCursor(NS), items[2]!.cursor);
      assert.equal(await s.lastCursor('dao:none'), 0);
      assert.deepEqual(await s.items('dao:none', 0, 10), []);
    } finally {
      await s.close();
    }
  });

  test('settle walks a long run past the walk chunk', async () => {
    const s = await openAt(await freshPlace());
    try {
      const ms = Array.from({ length: 600 }, (_, i) => msg(i + 1));
      await s.admit(NS, SRC, ms);
      await apply(s, ms, false);
      assert.equal(await s.nextSeq(NS, SRC), 601);
      assert.deepEqual(await s.items(NS, 0, 10), []);
    } finally {
      await s.close();
    }
  });

  test('record entries: recorded, found by reconciliation, and back to held keeping what was found', async () => {
    const s = await openAt(await freshPlace());
    try {
      const [a, b, c] = [msg(1), msg(2), msg(3)];
      await s.admit(NS, SRC, [a, b, c]);
      await s.settle({
        namespace: NS,
        transitions: [a, b, c].map((m) => ({ ...key(m), to: 'applying' })),
        advance: [],
        initialScanMark: 40,
      });
      assert.equal(await s.scanMark(NS), 40);
      await s.settle({ namespace: NS, transitions: [], advance: [], initialScanMark: 5 });
      assert.equal(await s.scanMark(NS), 40, 'an initial mark is set once');
      await s.settle({
        namespace: NS,
        transitions: [{ ...key(a), to: 'recorded', recordIndex: 41, delivery: 'da' }],
        advance: [],
      });
      assert.deepEqual(
        (await s.applyingRows()).map((r) => [r.seq, r.recordIndex, r.delivery]),
        [
          [1, 41, 'da'],
          [2, undefined, undefined],
          [3, undefined, undefined],
        ],
      );
      await s.settle({
        namespace: NS,
        transitions: [
          { ...key(a), to: 'held' },
          { ...key(b), to: 'held', recordIndex: 43 },
          { ...key(c), to: 'applied', delivery: 'dc', deliveryIndex: 44, listed: false },
        ],
        advance: [SRC],
        raiseScanMark: 45,
      });
      assert.deepEqual(await s.get(SRC, a.sourceIndex), { ...a, state: 'held', recordIndex: 41 });
      assert.deepEqual(await s.get(SRC, b.sourceIndex), { ...b, state: 'held', recordIndex: 43 });
      assert.deepEqual(await s.recordIndexesFrom(NS, 42), [43]);
      assert.deepEqual(await s.recordIndexesFrom(NS, 0), [41, 43]);
      assert.deepEqual(await s.applyingRows(), []);
      assert.equal(await s.scanMark(NS), 45);
      await s.settle({ namespace: NS, transitions: [], advance: [], raiseScanMark: 30 });
      assert.equal(await s.scanMark(NS), 45, 'never lowered');
      assert.equal(await s.scanMark('dao:none'), undefined);
    } finally {
      await s.close();
    }
  });

  test('a transition on a row not in its expected state fails the whole settlement, writing nothing', async () => {
    const s = await openAt(await freshPlace());
    try {
      const [a, b] = [msg(1), msg(2)];
      await s.admit(NS, SRC, [a, b]);
      const bad: InboxTransition[] = [
        { ...key(a), to: 'applying', delivery: 'x' },
        { ...key(b), to: 'applied', delivery: 'y', deliveryIndex: 1, listed: true },
      ];
      await assert.rejects(s.settle({ namespace: NS, transitions: bad, advance: [SRC], raiseScanMark: 9 }), (e) => {
        assert.ok(code('STORAGE_FAILURE')(e));
        assert.match(
          (e as Error).message,
          new RegExp(`inbox row ${SRC}#${b.sourceIndex} was not applying as expected`),
        );
        return true;
      });
      assert.deepEqual(await s.get(SRC, a.sourceIndex), held(a), 'the first transition was rolled back');
      assert.equal(await s.scanMark(NS), undefined);
      assert.deepEqual(await s.items(NS, 0, 10), []);
      await assert.rejects(
        s.settle({ namespace: NS, transitions: [{ ...key(msg(9)), to: 'held' }], advance: [] }),
        code('STORAGE_FAILURE'),
        'a row not there is not in any state',
      );
    } finally {
      await s.close();
    }
  });

  test('a closed storage answers SHUTTING_DOWN', async () => {
    const s = await openAt(await freshPlace());
    await s.close();
    await s.close();
    await assert.rejects(s.get(SRC, 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.admit(NS, SRC, [msg(1)]), code('SHUTTING_DOWN'));
    await assert.rejects(s.settle({ namespace: NS, transitions: [], advance: [SRC] }), code('SHUTTING_DOWN'));
  });

  test('two storages on one place: the same offers are stored once, the same intent is written once', async () => {
    const place = await freshPlace();
    const [s1, s2] = [await openAt(place), await openAt(place)];
    try {
      const ms = Array.from({ length: 40 }, (_, i) => msg(i + 1));
      const [x, y] = await Promise.all([s1.admit(NS, SRC, ms), s2.admit(NS, SRC, ms)]);
      ms.forEach((_, i) => {
        const kinds = [x[i]!.kind, y[i]!.kind].sort();
        assert.deepEqual(kinds, ['held', 'known'], `message ${i}: stored by exactly one`);
      });
      const intent: InboxTransition[] = ms.map((m) => ({ ...key(m), to: 'applying', delivery: 'd' }));
      const outcomes = await Promise.allSettled([
        s1.settle({ namespace: NS, transitions: intent, advance: [SRC] }),
        s2.settle({ namespace: NS, transitions: intent, advance: [SRC] }),
      ]);
      assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected'], 'exactly one wins');
      const lost = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
      assert.ok(code('STORAGE_FAILURE')(lost.reason));
      assert.equal((await s1.applyingRows()).length, ms.length);
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
      await plain.admit(NS, SRC, [msg(1)]);
      await assert.rejects(fenced.admit(NS, SRC, [msg(2)]), code('LEASE_LOST'));
      await assert.rejects(
        fenced.settle({
          namespace: NS,
          transitions: [{ ...key(msg(1)), to: 'applying', delivery: 'd' }],
          advance: [SRC],
          initialScanMark: 3,
        }),
        code('LEASE_LOST'),
      );
      assert.deepEqual(await plain.streamFrom(NS, SRC, 1, 10), [held(msg(1))]);
      assert.equal(await plain.scanMark(NS), undefined);
      assert.equal(await fenced.messageIdAt(SRC, msg(1).sourceIndex), msg(1).messageId, 'reads are not fenced');
    } finally {
      await plain.close();
      await fenced.close();
    }
  });
});
