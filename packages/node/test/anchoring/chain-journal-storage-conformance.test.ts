import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChainEpochKey } from '../../src/anchoring/chain/chain-journal-records.js';
import { forEachBackend } from '../storage/backend-suite.js';
import { TARGET, attempt, code, finalization, openAnchorStorage } from './anchor-storage-fixtures.js';

const k = (epoch: number, mode: ChainEpochKey['mode'] = 'collaborative', node = ''): ChainEpochKey => ({
  target: TARGET,
  epoch,
  mode,
  node,
});

const COST = { kind: 'btc', vbytes: 150, feeSats: '300' } as const;

// The chain anchor journal (AnchorStorage.chain) on both backends (issue 14): an attempt is
// journaled before it is broadcast and follows what the chain says; its history is kept per
// target, pruned to the latest 2,000 events.
forEachBackend('ChainJournalStorage conformance', (freshPlace) => {
  test('an attempt is journaled once, prepared, with its event; it survives a reopen', async () => {
    const place = await freshPlace();
    let s = await openAnchorStorage(place);
    await s.chain.add(k(1), attempt('b1'), 100, 'fee 2 sat/vB');
    await s.chain.add(k(1), attempt('a2', 'b1'), 100, 'replaces b1');
    await s.chain.add(k(1), attempt('b1', 'zz'), 300, 'again');
    await s.close();
    s = await openAnchorStorage(place);
    assert.deepEqual(await s.chain.attempts(k(1)), [
      { attempt: attempt('a2', 'b1'), state: 'prepared', confirmations: 0, createdAtMs: 100, updatedAtMs: 100 },
      { attempt: attempt('b1'), state: 'prepared', confirmations: 0, createdAtMs: 100, updatedAtMs: 100 },
    ]);
    assert.deepEqual(await s.chain.attempts(k(1, 'independent', 'node-a')), []);
    assert.deepEqual(await s.chain.events(TARGET, 1), [
      { epoch: 1, txid: 'b1', event: 'prepared', detail: 'fee 2 sat/vB', atMs: 100 },
      { epoch: 1, txid: 'a2', event: 'replacement', detail: 'replaces b1', atMs: 100 },
      { epoch: 1, txid: 'b1', event: 'replacement', detail: 'again', atMs: 300 },
    ]);
    await s.close();
  });

  test('a broadcast makes a prepared attempt pending and keeps its first send time', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.chain.add(k(2), attempt('t'), 100, 'd');
    await s.chain.markSent(k(2), 't', 200, 'sent', 'd');
    await s.chain.markSent(k(2), 't', 300, 'rebroadcast', 'd');
    assert.deepEqual(await s.chain.attempts(k(2)), [
      { attempt: attempt('t'), state: 'pending', confirmations: 0, createdAtMs: 100, sentAtMs: 200, updatedAtMs: 300 },
    ]);
    await s.chain.see(k(2), 't', { state: 'included', blockHash: 'bb', height: 7, confirmations: 1 }, 400);
    await s.chain.markSent(k(2), 't', 500, 'rebroadcast', 'd');
    assert.equal((await s.chain.attempts(k(2)))[0]!.state, 'included');
    assert.deepEqual(
      (await s.chain.events(TARGET, 2)).map((e) => e.event),
      ['prepared', 'sent', 'rebroadcast', 'rebroadcast'],
    );
    await s.close();
  });

  test('a sighting records the block, confirmations and cost; a later one without cost keeps it', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.chain.add(k(3), attempt('t'), 100, 'd');
    await s.chain.see(k(3), 't', { state: 'included', blockHash: 'bb', height: 7, confirmations: 2, cost: COST }, 200, {
      name: 'included',
      detail: 'in bb',
    });
    assert.deepEqual(await s.chain.attempts(k(3)), [
      {
        attempt: attempt('t'),
        state: 'included',
        blockHash: 'bb',
        height: 7,
        confirmations: 2,
        cost: COST,
        createdAtMs: 100,
        updatedAtMs: 200,
      },
    ]);
    // Reorganised out: no block any more, the cost known stays.
    await s.chain.see(k(3), 't', { state: 'missing' }, 300);
    assert.deepEqual(await s.chain.attempts(k(3)), [
      { attempt: attempt('t'), state: 'missing', confirmations: 0, cost: COST, createdAtMs: 100, updatedAtMs: 300 },
    ]);
    assert.deepEqual(
      (await s.chain.events(TARGET, 3)).map((e) => e.event),
      ['prepared', 'included'],
    );
    await s.close();
  });

  test('events: per epoch oldest first, per target newest first with a limit, details cut', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.chain.note(k(4), 'a', 'one', 'x'.repeat(1500), 1);
    await s.chain.note(k(4, 'independent', 'node-a'), 'b', 'two', 'd', 2);
    await s.chain.note(k(5), 'c', 'three', 'd', 3);
    await s.chain.note({ ...k(4), target: 'other-target' }, 'd', 'four', 'd', 4);
    assert.deepEqual(await s.chain.events(TARGET, 4), [
      { epoch: 4, txid: 'a', event: 'one', detail: 'x'.repeat(1000), atMs: 1 },
      { epoch: 4, txid: 'b', event: 'two', detail: 'd', atMs: 2 },
    ]);
    assert.deepEqual(
      (await s.chain.recentEvents(TARGET, 2)).map((e) => e.event),
      ['three', 'two'],
    );
    assert.deepEqual(
      (await s.chain.recentEvents('other-target', 10)).map((e) => e.event),
      ['four'],
    );
    await s.close();
  });

  test('a target keeps its latest 2,000 events; other targets keep theirs', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.chain.note({ ...k(0), target: 'other-target' }, 'o', 'kept', 'd', 0);
    for (let i = 0; i < 2_003; i++) await s.chain.note(k(6), 't', `e${i}`, 'd', i);
    const recent = await s.chain.recentEvents(TARGET, 5_000);
    assert.equal(recent.length, 2_000);
    assert.equal(recent[0]!.event, 'e2002');
    assert.equal(recent.at(-1)!.event, 'e3');
    assert.equal((await s.chain.recentEvents('other-target', 10)).length, 1);
    await s.close();
  });

  test('in flight: unsettled attempts of epochs without a known outcome, by epoch then txid', async () => {
    const s = await openAnchorStorage(await freshPlace());
    const states = ['pending', 'included', 'missing', 'final', 'conflicted'] as const;
    for (const [i, state] of states.entries()) {
      await s.chain.add(k(10), attempt(`t${i}`), 1, 'd');
      await s.chain.see(k(10), `t${i}`, { state, confirmations: i }, 2);
    }
    await s.chain.add(k(9), attempt('z'), 1, 'd');
    await s.chain.add(k(9, 'independent', 'node-a'), attempt('y'), 1, 'd');
    await s.chain.add(k(11), attempt('settled'), 1, 'd');
    await s.markEpoch(TARGET, 11, 'collaborative', '', 'abandoned', 3);
    await s.chain.add(k(12), attempt('finalized'), 1, 'd');
    await s.recordFinalized(finalization(12), new Map(), 4);
    await s.chain.add({ ...k(10), target: 'other-target' }, attempt('elsewhere'), 1, 'd');
    assert.deepEqual(await s.chain.inFlight(TARGET), [
      { epoch: 9, mode: 'independent', node: 'node-a', txid: 'y', state: 'prepared', confirmations: 0 },
      { epoch: 9, mode: 'collaborative', node: '', txid: 'z', state: 'prepared', confirmations: 0 },
      { epoch: 10, mode: 'collaborative', node: '', txid: 't0', state: 'pending', confirmations: 0 },
      { epoch: 10, mode: 'collaborative', node: '', txid: 't1', state: 'included', confirmations: 1 },
      { epoch: 10, mode: 'collaborative', node: '', txid: 't2', state: 'missing', confirmations: 2 },
    ]);
    await s.close();
  });

  test('final costs: final attempts with a cost, with the epoch they anchored', async () => {
    const s = await openAnchorStorage(await freshPlace());
    const other = { kind: 'eip1559', gasUsed: '21000', feeWei: '42' } as const;
    await s.chain.add(k(21), attempt('b'), 1, 'd');
    await s.chain.see(k(21), 'b', { state: 'final', confirmations: 6, cost: other }, 2);
    await s.chain.add(k(20, 'independent', 'node-a'), attempt('a'), 1, 'd');
    await s.chain.see(k(20, 'independent', 'node-a'), 'a', { state: 'final', confirmations: 6, cost: COST }, 2);
    await s.chain.add(k(22), attempt('c'), 1, 'd');
    await s.chain.see(k(22), 'c', { state: 'included', confirmations: 1, cost: COST }, 2);
    await s.chain.add(k(23), attempt('d'), 1, 'd');
    await s.chain.see(k(23), 'd', { state: 'final', confirmations: 6 }, 2);
    assert.deepEqual(await s.chain.finalCosts(TARGET), [
      { epoch: 20, mode: 'independent', node: 'node-a', cost: COST },
      { epoch: 21, mode: 'collaborative', node: '', cost: other },
    ]);
    assert.deepEqual(await s.chain.finalCosts('other-target'), []);
    await s.close();
  });

  test('two stores on one place journaling one attempt at once: one attempt, every event', async () => {
    const place = await freshPlace();
    const a = await openAnchorStorage(place);
    const b = await openAnchorStorage(place);
    await Promise.all([
      a.chain.add(k(30), attempt('t'), 1, 'from a'),
      b.chain.add(k(30), attempt('t'), 2, 'from b'),
      ...Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? a : b).chain.note(k(30), 't', `n${i}`, 'd', 3)),
    ]);
    assert.equal((await a.chain.attempts(k(30))).length, 1);
    const events = await b.chain.events(TARGET, 30);
    assert.equal(events.length, 10);
    assert.deepEqual(
      events
        .filter((e) => e.event === 'prepared')
        .map((e) => e.detail)
        .sort(),
      ['from a', 'from b'],
    );
    await a.close();
    await b.close();
  });

  test('a closed store answers SHUTTING_DOWN', async () => {
    const s = await openAnchorStorage(await freshPlace());
    await s.close();
    await assert.rejects(s.chain.attempts(k(1)), code('SHUTTING_DOWN'));
    await assert.rejects(s.chain.add(k(1), attempt('t'), 1, 'd'), code('SHUTTING_DOWN'));
    await assert.rejects(s.chain.inFlight(TARGET), code('SHUTTING_DOWN'));
    await assert.rejects(s.chain.finalCosts(TARGET), code('SHUTTING_DOWN'));
  });
});
