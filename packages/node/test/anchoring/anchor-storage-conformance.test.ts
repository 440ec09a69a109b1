import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { join } from 'node:path';
import type { AnchorStorage } from '../../src/anchoring/anchor-storage.js';
import { PgDatabase } from '../../src/storage/postgres/pg-database.js';
import { forEachBackend } from '../storage/backend-suite.js';
import { databaseUrl } from '../storage/postgres/test-databases.js';
import {
  LOST_LEASE,
  ONE,
  TARGET,
  TWO,
  attempt,
  code,
  finalization,
  openAnchorStorage,
} from './anchor-storage-fixtures.js';

/** Signed-root arguments of a finalization's statement and leaves. */
function rootOf(f: ReturnType<typeof finalization>, sig: string, signedAt = 't') {
  return { statement: f.statement, leaves: f.leaves, sig, signedAt };
}

const OWN = new Map([[ONE, 'dao:one']]);

// AnchorStorage on both backends (issue 14): one signed root per (target, epoch, mode), a
// finalized epoch is never replaced (another anchor of its root is a duplicate, another root a
// conflict), what it anchors clears what it satisfies, and everything is still there after a reopen.
forEachBackend('AnchorStorage conformance', (freshPlace) => {
  test('the first signed root of an epoch stays; later ones get it back; it survives a reopen', async () => {
    const place = await freshPlace();
    let s = await openAnchorStorage(place);
    const a = finalization(10, 7);
    const first = await s.recordSignedRoot(rootOf(a, 'S1', 't1'));
    assert.equal(first.sig, 'S1');
    const second = await s.recordSignedRoot(rootOf(finalization(10, 8), 'S2', 't2'));
    assert.deepEqual(second, { statement: a.statement, leaves: a.leaves, sig: 'S1', signedAt: 't1' });
    await s.close();
    s = await openAnchorStorage(place);
    assert.deepEqual(await s.signedRoot(TARGET, 10, 'collaborative'), first);
    assert.equal(await s.signedRoot(TARGET, 10, 'independent'), undefined);
    await s.close();
  });

  test('a finalized epoch clears the dues it satisfies and advances what is anchored', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markDue(TARGET, 'dao:one', 1000, 7);
    await s.markDue(TARGET, 'dao:other', 1000, 2);
    assert.equal(await s.dueCount(TARGET), 2);
    assert.equal(await s.recordFinalized(finalization(11), OWN, 5), 'new');
    assert.deepEqual(await s.due(TARGET), [{ target: TARGET, namespace: 'dao:other', dueAtMs: 1000, sealedSize: 2 }]);
    assert.equal(await s.anchoredSize(TARGET, ONE), 7);
    assert.equal(await s.anchoredSize(TARGET, TWO), 3);
    assert.equal(await s.anchoredSize('other-target', ONE), 0);
    // An entry below size 7 is covered by epoch 11.
    assert.deepEqual(await s.anchorsCovering(ONE, 6), [
      { target: TARGET, epoch: 11, mode: 'collaborative', node: '', size: 7 },
    ]);
    assert.deepEqual(await s.anchorsCovering(ONE, 7), []);
    // A smaller later anchor does not lower what is anchored.
    await s.recordFinalized(finalization(12, 5), OWN, 6);
    assert.equal(await s.anchoredSize(TARGET, ONE), 7);
    assert.deepEqual(
      (await s.anchorsCovering(ONE, 4)).map((a) => [a.epoch, a.size]),
      [
        [11, 7],
        [12, 5],
      ],
    );
    await s.close();
  });

  test('a due whose sealed size is past the anchored leaf stays queued', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markDue(TARGET, 'dao:one', 1000, 9);
    await s.recordFinalized(finalization(12, 7), OWN, 5);
    assert.equal(await s.dueCount(TARGET), 1);
    await s.close();
  });

  test('the same epoch again is "same", other evidence for its root a duplicate, another root a conflict', async () => {
    const s = await openAnchorStorage(await freshPlace());
    assert.equal(await s.recordFinalized(finalization(13), new Map(), 1), 'new');
    assert.equal(await s.recordFinalized(finalization(13), new Map(), 2), 'same');
    assert.equal(await s.recordFinalized(finalization(13, 7, 'BBBB'), new Map(), 3), 'duplicate');
    assert.equal(await s.recordFinalized(finalization(13, 7, 'BBBB'), new Map(), 4), 'same');
    await assert.rejects(s.recordFinalized(finalization(13, 8), new Map(), 5), code('EPOCH_CONFLICT'));
    // An abandoned mark never undoes a finalization; the record is the first one, as stored.
    await s.markEpoch(TARGET, 13, 'collaborative', '', 'abandoned', 6);
    assert.deepEqual(await s.epoch(TARGET, 13, 'collaborative', ''), {
      target: TARGET,
      epoch: 13,
      mode: 'collaborative',
      node: '',
      status: 'finalized',
      finalization: finalization(13),
      updatedAtMs: 1,
    });
    await s.close();
  });

  test('an abandoned or empty epoch is marked, re-marked, and finalized over', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markEpoch(TARGET, 14, 'collaborative', '', 'abandoned', 1);
    assert.deepEqual(await s.epoch(TARGET, 14, 'collaborative', ''), {
      target: TARGET,
      epoch: 14,
      mode: 'collaborative',
      node: '',
      status: 'abandoned',
      updatedAtMs: 1,
    });
    await s.markEpoch(TARGET, 14, 'collaborative', '', 'empty', 2);
    assert.equal((await s.epoch(TARGET, 14, 'collaborative', ''))?.status, 'empty');
    assert.equal(await s.epoch(TARGET, 14, 'independent', ''), undefined);
    assert.equal(await s.recordFinalized(finalization(14), new Map(), 3), 'new');
    assert.equal((await s.epoch(TARGET, 14, 'collaborative', ''))?.status, 'finalized');
    await s.close();
  });

  test('epochs list newest first below a bound, with a limit; lastFinalized skips the other outcomes', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.recordFinalized(finalization(20), new Map(), 1);
    await s.markEpoch(TARGET, 21, 'collaborative', '', 'empty', 2);
    await s.markEpoch(TARGET, 21, 'independent', 'node-b', 'abandoned', 3);
    await s.markEpoch(TARGET, 21, 'independent', 'Node-a', 'abandoned', 3);
    await s.markEpoch(TARGET, 22, 'collaborative', '', 'abandoned', 4);
    await s.markEpoch('other-target', 30, 'collaborative', '', 'empty', 5);
    const key = (r: { epoch: number; mode: string; node: string }) => `${r.epoch}/${r.mode}/${r.node}`;
    assert.deepEqual((await s.epochs(TARGET, 100, 10)).map(key), [
      '22/collaborative/',
      '21/collaborative/',
      // Binary order: capitals first, whatever the database's locale.
      '21/independent/Node-a',
      '21/independent/node-b',
      '20/collaborative/',
    ]);
    assert.deepEqual((await s.epochs(TARGET, 22, 2)).map(key), ['21/collaborative/', '21/independent/Node-a']);
    assert.equal((await s.lastFinalized(TARGET))?.epoch, 20);
    assert.equal(await s.lastFinalized('other-target'), undefined);
    await s.close();
  });

  test('(PostgreSQL) binary order holds in a database whose own collation is not binary', async (t) => {
    const place = await freshPlace();
    if (place.kind !== 'postgres') {
      t.skip('SQLite compares text as bytes');
      return;
    }
    const admin = await PgDatabase.open({ url: place.url, what: 'test' });
    const name = `icu_${new URL(place.url).pathname.slice(1)}`;
    await admin.run(`CREATE DATABASE ${name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'`);
    await admin.close();
    const url = databaseUrl(place.url, name);
    const s = await openAnchorStorage({ kind: 'postgres', url });
    const db = await PgDatabase.open({ url, what: 'test' });
    const r = await db.row<{ before: boolean }>(`SELECT 'dao:B' < 'dao:a' AS before`);
    await db.close();
    assert.equal(r?.before, false, 'the database orders by its locale, capitals not first');
    for (const ns of ['dao:b', 'dao:a', 'dao:B']) await s.markDue(TARGET, ns, 1, 1);
    await s.markEpoch(TARGET, 1, 'independent', 'node-b', 'empty', 1);
    await s.markEpoch(TARGET, 1, 'independent', 'Node-a', 'empty', 1);
    assert.deepEqual(
      (await s.due(TARGET)).map((d) => d.namespace),
      ['dao:B', 'dao:a', 'dao:b'],
    );
    assert.deepEqual(
      (await s.epochs(TARGET, 2, 10)).map((e) => e.node),
      ['Node-a', 'node-b'],
    );
    await s.close();
  });

  test('dues: a namespace queued again keeps its due time and the larger size; binary order; seen times only grow', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markDue(TARGET, 'dao:b', 1000, 5);
    await s.markDue(TARGET, 'dao:b', 2000, 3);
    await s.markDue(TARGET, 'dao:B', 1500, 1);
    await s.markDue(TARGET, 'dao:a', 1500, 2);
    await s.markDue('other-target', 'dao:a', 1, 1);
    assert.deepEqual(await s.due(TARGET), [
      { target: TARGET, namespace: 'dao:B', dueAtMs: 1500, sealedSize: 1 },
      { target: TARGET, namespace: 'dao:a', dueAtMs: 1500, sealedSize: 2 },
      { target: TARGET, namespace: 'dao:b', dueAtMs: 1000, sealedSize: 5 },
    ]);
    await s.markDue(TARGET, 'dao:b', 3000, 8);
    assert.equal((await s.due(TARGET)).find((d) => d.namespace === 'dao:b')?.sealedSize, 8);
    await s.clearDue(TARGET, 'dao:B');
    assert.equal(await s.dueCount(TARGET), 2);
    assert.equal(await s.dueCount('no-target'), 0);

    assert.equal(await s.dueSeen('dao:a', 'hour', TARGET), undefined);
    await s.markDueSeen('dao:a', 'hour', TARGET, 5000);
    await s.markDueSeen('dao:a', 'hour', TARGET, 4000);
    assert.equal(await s.dueSeen('dao:a', 'hour', TARGET), 5000);
    assert.equal(await s.dueSeen('dao:a', 'day', TARGET), undefined);
    await s.close();
  });

  test('clearDueSatisfied clears a due only when what is anchored reaches its sealed size', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markDue(TARGET, 'dao:a', 1000, 5);
    assert.equal(await s.clearDueSatisfied(TARGET, 'dao:a', 4), false);
    assert.equal(await s.dueCount(TARGET), 1);
    // Raised meanwhile (a newer seal came due): the anchored size read before no longer satisfies it.
    await s.markDue(TARGET, 'dao:a', 1000, 9);
    assert.equal(await s.clearDueSatisfied(TARGET, 'dao:a', 5), false);
    assert.equal(await s.clearDueSatisfied(TARGET, 'dao:a', 9), true);
    assert.equal(await s.dueCount(TARGET), 0);
    assert.equal(await s.clearDueSatisfied(TARGET, 'dao:a', 9), false);
    await s.close();
  });

  test('handleDue queues with its counter, counts a skip, and marks the event seen either way', async () => {
    const s = await openAnchorStorage(await freshPlace());
    const event = { namespace: 'dao:a', level: 'hour', target: TARGET, dueAtMs: 1000 };
    await s.handleDue(event, { kind: 'queue', namespace: 'dao:a', sealedSize: 4 });
    await s.handleDue({ ...event, level: 'day', dueAtMs: 2000 }, { kind: 'skip', label: `${TARGET}|nothing-new` });
    await s.handleDue({ ...event, namespace: 'gone', dueAtMs: 3000 }, { kind: 'none' });
    assert.deepEqual(await s.due(TARGET), [{ target: TARGET, namespace: 'dao:a', dueAtMs: 1000, sealedSize: 4 }]);
    assert.equal(await s.dueSeen('dao:a', 'hour', TARGET), 1000);
    assert.equal(await s.dueSeen('dao:a', 'day', TARGET), 2000);
    assert.equal(await s.dueSeen('gone', 'hour', TARGET), 3000);
    assert.deepEqual(
      await s.counters(),
      new Map([
        ['due', new Map([[TARGET, 1]])],
        ['skips', new Map([[`${TARGET}|nothing-new`, 1]])],
      ]),
    );
    await s.close();
  });

  test('counters add up, concurrent bumps included, and list by name and label', async () => {
    const place = await freshPlace();
    const a = await openAnchorStorage(place);
    const b = await openAnchorStorage(place);
    await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? a : b).bump('due', 'x')));
    await a.bump('due', 'x', 5);
    await a.bump('abandoned', 'y');
    assert.deepEqual(
      [...(await b.counters())].map(([name, labels]) => [name, [...labels]]),
      [
        ['abandoned', [['y', 1]]],
        ['due', [['x', 15]]],
      ],
    );
    await a.close();
    await b.close();
  });

  test('failures are kept per target, newest first, at most 100, reasons cut; the counter keeps the total', async () => {
    const s = await openAnchorStorage(await freshPlace());
    for (let i = 0; i < 130; i++) await s.recordFailure(TARGET, i, `reason ${i}`, i);
    await s.recordFailure('other-target', null, 'x'.repeat(3000), 7);
    const recent = await s.failures(TARGET, 1000);
    assert.equal(recent.length, 100);
    assert.deepEqual(recent[0], { target: TARGET, epoch: 129, reason: 'reason 129', atMs: 129 });
    assert.equal(recent[99]!.epoch, 30);
    assert.equal((await s.failures(TARGET)).length, 20);
    assert.deepEqual(await s.failures('other-target'), [
      { target: 'other-target', epoch: null, reason: 'x'.repeat(2000), atMs: 7 },
    ]);
    assert.equal((await s.counters()).get('failures')?.get(TARGET), 130);
    await s.close();
  });

  test('leaves in flight: signed roots of other epochs in range, before and after, without a known outcome', async () => {
    const s = await openAnchorStorage(await freshPlace());
    for (const [epoch, size] of [
      [5, 7],
      [7, 8],
      [9, 9],
      [11, 10],
    ] as const) {
      await s.recordSignedRoot(rootOf(finalization(epoch, size), `S${epoch}`));
    }
    await s.recordFinalized(finalization(7, 8), new Map(), 1);
    // Gathering epoch 9: 5 is in flight before it, 11 after it (a leader running ahead), 7 is
    // finalized, and 9 itself is the epoch being gathered.
    assert.equal((await s.inFlightSizes(TARGET, 4, 12, 9)).get(ONE), 10);
    assert.equal((await s.inFlightSizes(TARGET, 4, 10, 9)).get(ONE), 7);
    assert.equal((await s.inFlightSizes(TARGET, 6, 10, 9)).get(ONE), undefined);
    assert.equal((await s.inFlightSizes(TARGET, 0, 20, 11)).get(ONE), 9);
    assert.equal((await s.inFlightSizes(TARGET, 0, 20, 11)).get(TWO), 3);
    await s.close();
  });

  test('two stores on one place racing one epoch: exactly one signed root, exactly one finalization', async () => {
    const place = await freshPlace();
    const a = await openAnchorStorage(place);
    const b = await openAnchorStorage(place);
    for (let epoch = 40; epoch < 45; epoch++) {
      const got = await Promise.all([
        a.recordSignedRoot(rootOf(finalization(epoch, 7), 'from-a')),
        b.recordSignedRoot(rootOf(finalization(epoch, 8), 'from-b')),
      ]);
      assert.equal(got[0].sig, got[1].sig, `epoch ${epoch}: both get the one root recorded`);
      assert.equal(got[0].statement.root, got[1].statement.root);
      const outcomes = await Promise.all([
        a.recordFinalized(finalization(epoch, 7, 'AAAA'), OWN, 1),
        b.recordFinalized(finalization(epoch, 7, 'BBBB'), OWN, 2),
        a.markEpoch(TARGET, epoch, 'collaborative', '', 'abandoned', 3),
      ]);
      assert.deepEqual(outcomes.slice(0, 2).sort(), ['duplicate', 'new'], `epoch ${epoch}`);
      assert.equal((await b.epoch(TARGET, epoch, 'collaborative', ''))?.status, 'finalized');
    }
    await a.close();
    await b.close();
  });

  test('a finalization the storage refuses writes nothing: STORAGE_FAILURE, the epoch still open', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.markDue(TARGET, 'dao:one', 1000, 7);
    const f = finalization(15);
    // Size 0 breaks the anchored table's check, after the epoch and its leaves are written.
    const broken = { ...f, leaves: f.leaves.map((l) => (l.origin === TWO ? { ...l, size: 0 } : l)) };
    await assert.rejects(s.recordFinalized(broken, OWN, 1), code('STORAGE_FAILURE'));
    assert.equal(await s.epoch(TARGET, 15, 'collaborative', ''), undefined);
    assert.equal(await s.anchoredSize(TARGET, ONE), 0);
    assert.deepEqual(await s.anchorsCovering(ONE, 0), []);
    assert.equal(await s.dueCount(TARGET), 1);
    assert.equal(await s.recordFinalized(f, OWN, 2), 'new');
    await s.close();
  });

  test('a database of a newer build is refused at open (STORAGE_FAILURE)', async () => {
    const place = await freshPlace();
    await (await openAnchorStorage(place)).close();
    if (place.kind === 'sqlite') {
      const db = new Database(join(place.dir, 'anchoring.sqlite'));
      db.pragma('user_version = 99');
      db.close();
    } else {
      const db = await PgDatabase.open({ url: place.url, what: 'test' });
      await db.run(`UPDATE remembrancer_schema SET version = 99 WHERE store = 'anchor'`);
      await db.close();
    }
    await assert.rejects(openAnchorStorage(place), code('STORAGE_FAILURE'));
  });

  test('a closed store answers SHUTTING_DOWN, to reads and writes; close is idempotent', async () => {
    const s: AnchorStorage = await openAnchorStorage(await freshPlace());
    await s.close();
    await s.close();
    await assert.rejects(s.due(TARGET), code('SHUTTING_DOWN'));
    await assert.rejects(s.markDue(TARGET, 'dao:a', 1, 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.recordFinalized(finalization(1), new Map(), 1), code('SHUTTING_DOWN'));
    await assert.rejects(s.chain.recentEvents(TARGET, 1), code('SHUTTING_DOWN'));
  });

  test('(PostgreSQL) a store whose lease is lost writes nothing', async (t) => {
    const place = await freshPlace();
    if (place.kind !== 'postgres') {
      t.skip('a SQLite file has one writer process: nothing to fence');
      return;
    }
    const fenced = await openAnchorStorage(place, LOST_LEASE);
    const key = { target: TARGET, epoch: 1, mode: 'collaborative', node: '' } as const;
    const writes: [string, () => Promise<unknown>][] = [
      ['markDue', () => fenced.markDue(TARGET, 'dao:a', 1, 1)],
      ['markDueSeen', () => fenced.markDueSeen('dao:a', 'hour', TARGET, 1)],
      [
        'handleDue',
        () =>
          fenced.handleDue(
            { namespace: 'dao:a', level: 'hour', target: TARGET, dueAtMs: 1 },
            { kind: 'skip', label: 'x' },
          ),
      ],
      ['clearDue', () => fenced.clearDue(TARGET, 'dao:a')],
      ['clearDueSatisfied', () => fenced.clearDueSatisfied(TARGET, 'dao:a', 1)],
      ['recordSignedRoot', () => fenced.recordSignedRoot(rootOf(finalization(1), 'S'))],
      ['markEpoch', () => fenced.markEpoch(TARGET, 1, 'collaborative', '', 'empty', 1)],
      ['recordFinalized', () => fenced.recordFinalized(finalization(1), OWN, 1)],
      ['bump', () => fenced.bump('due', 'x')],
      ['recordFailure', () => fenced.recordFailure(TARGET, 1, 'r', 1)],
      ['chain.add', () => fenced.chain.add(key, attempt('0x1'), 1, 'd')],
      ['chain.markSent', () => fenced.chain.markSent(key, '0x1', 1, 'sent', 'd')],
      ['chain.see', () => fenced.chain.see(key, '0x1', { state: 'pending' }, 1)],
      ['chain.note', () => fenced.chain.note(key, '0x1', 'e', 'd', 1)],
    ];
    for (const [name, write] of writes) await assert.rejects(write(), code('LEASE_LOST'), name);
    await fenced.close();
    const s = await openAnchorStorage(place);
    assert.deepEqual(await s.due(TARGET), []);
    assert.equal(await s.dueSeen('dao:a', 'hour', TARGET), undefined);
    assert.equal(await s.signedRoot(TARGET, 1, 'collaborative'), undefined);
    assert.equal(await s.epoch(TARGET, 1, 'collaborative', ''), undefined);
    assert.equal(await s.anchoredSize(TARGET, ONE), 0);
    assert.deepEqual(await s.counters(), new Map());
    assert.deepEqual(await s.failures(TARGET), []);
    assert.deepEqual(await s.chain.attempts(key), []);
    assert.deepEqual(await s.chain.recentEvents(TARGET, 10), []);
    await s.close();
  });
});
