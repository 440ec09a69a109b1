// Issue 10, item 2: the cadence's due events decide which namespaces' sealed checkpoints are offered
// at an epoch. A namespace due at the very moment an epoch closes belongs to that epoch: the leaves
// are offered only after every due event up to now was heard (LocalLeaves' catchUp), whatever the
// phase of the cadence scheduler's own timer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalBytes } from '@vaultmesh/core';
import type { LogEngine } from '../../src/log/log-engine.js';
import type { AnchorStorage } from '../../src/anchoring/anchor-storage.js';
import { LocalLeaves } from '../../src/anchoring/local-leaves.js';
import { CadenceScheduler } from '../../src/namespaces/cadence-scheduler.js';
import { LogSignatureSealing } from '../../src/namespaces/sealing-without-witnesses.js';
import { open, tempDirs } from '../log/engine-fixture.js';
import { forEachBackend } from '../storage/backend-suite.js';
import { finalization, nodeStoragesAt } from './anchor-storage-fixtures.js';

const dirs = tempDirs('remembrancer-local-leaves-');
const NS = 'dao:leaves';
const TARGET = 'rfc3161:test';
const EPOCH_MS = 5_000;

let engine: LogEngine;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  engine = await open(dirs.make());
  await engine.createNamespace(NS);
  await engine.append(NS, [canonicalBytes({ n: 1 }), canonicalBytes({ n: 2 })]);
  await engine.publishCheckpoint(NS);
});

after(async () => {
  for (const close of closers) await close();
  await engine.close();
  dirs.cleanup();
});

forEachBackend('LocalLeaves', (freshPlace) => {
  /** A node's due queue and scheduler at a fresh place, the clock at `clock.now`. */
  async function leavesWith(
    catchUp: boolean,
    clock: { now: number },
  ): Promise<{ leaves: LocalLeaves; scheduler: CadenceScheduler; store: AnchorStorage }> {
    const { anchoring: store, cadence } = await nodeStoragesAt(await freshPlace());
    const scheduler = new CadenceScheduler({ storage: cadence, now: () => clock.now });
    closers.push(
      () => scheduler.close(),
      () => store.close(),
    );
    // Due every epoch from an epoch boundary on: due times fall exactly on epoch closes.
    await scheduler.apply(NS, { fast: { target: TARGET, every: '5s', confirmations: 0 } }, 0);
    const leaves = new LocalLeaves({
      engine,
      sealing: new LogSignatureSealing(engine),
      store,
      checkpointNote: (_origin, cp) => cp.note,
      witnessPolicy: () => undefined,
      isConfigured: (t) => t === TARGET,
      ...(catchUp ? { catchUp: () => scheduler.tick() } : {}),
    });
    scheduler.onDue((e) => leaves.onDue(e));
    return { leaves, scheduler, store };
  }

  test('a namespace due exactly at an epoch close is offered for that epoch, before the scheduler timer ticks', async () => {
    const clock = { now: EPOCH_MS - 1 };
    const { leaves } = await leavesWith(true, clock);
    assert.deepEqual(await leaves.pending(TARGET), [], 'nothing is due before the close');
    clock.now = EPOCH_MS; // the close and the due time; no timer has ticked
    const offered = await leaves.pending(TARGET);
    assert.equal(offered.length, 1);
    assert.equal(offered[0]!.size, 2);
    assert.equal(offered[0]!.origin, engine.getNamespace(NS)!.origin);
  });

  test('without the catch-up the same due event waits for the timer, and the leaf for the next epoch', async () => {
    const clock = { now: EPOCH_MS - 1 };
    const { leaves, scheduler } = await leavesWith(false, clock);
    clock.now = EPOCH_MS;
    assert.deepEqual(await leaves.pending(TARGET), []);
    await scheduler.tick();
    assert.equal((await leaves.pending(TARGET)).length, 1, "the timer's tick queues it");
  });

  test('a due event is queued, counted and marked seen; a replay handles only the events never seen; skips are counted by reason', async () => {
    const clock = { now: EPOCH_MS - 1 };
    const { leaves, scheduler, store } = await leavesWith(true, clock);
    clock.now = EPOCH_MS;
    assert.equal((await leaves.pending(TARGET)).length, 1);
    assert.deepEqual(await store.due(TARGET), [{ target: TARGET, namespace: NS, dueAtMs: EPOCH_MS, sealedSize: 2 }]);
    assert.equal(await store.dueSeen(NS, 'fast', TARGET), EPOCH_MS);
    assert.equal((await store.counters()).get('due')?.get(TARGET), 1);
    // After a restart the scheduler's latest events are offered again: seen ones are not replayed.
    assert.equal(await leaves.replayMissed(await scheduler.lastDueEvents()), 0);
    const unseen = { namespace: NS, level: 'fast' as const, target: TARGET, confirmations: 0, periods: 1 };
    assert.equal(await leaves.replayMissed([{ ...unseen, dueAtMs: 2 * EPOCH_MS }]), 1);
    // A target this node has not configured, and a namespace it does not have: a skip, and nothing.
    leaves.onDue({ ...unseen, target: 'rfc3161:elsewhere', dueAtMs: 2 * EPOCH_MS });
    leaves.onDue({ ...unseen, namespace: 'dao:gone', dueAtMs: 2 * EPOCH_MS });
    await leaves.pending(TARGET);
    assert.equal(await store.dueSeen(NS, 'fast', TARGET), 2 * EPOCH_MS);
    assert.equal(await store.dueSeen('dao:gone', 'fast', TARGET), 2 * EPOCH_MS);
    const counters = await store.counters();
    assert.equal(counters.get('due')?.get(TARGET), 2);
    assert.equal(counters.get('skips')?.get('rfc3161:elsewhere|target-not-configured'), 1);
    assert.deepEqual(await store.due(TARGET), [{ target: TARGET, namespace: NS, dueAtMs: EPOCH_MS, sealedSize: 2 }]);
  });

  test('a queued namespace whose sealed size is anchored leaves the queue; a due for a size not anchored stays', async () => {
    const clock = { now: EPOCH_MS - 1 };
    const { leaves, store } = await leavesWith(true, clock);
    clock.now = EPOCH_MS;
    assert.equal((await leaves.pending(TARGET)).length, 1);
    // Another epoch anchored the namespace at its sealed size (no own-namespace clearing here).
    const origin = engine.getNamespace(NS)!.origin;
    const base = finalization(1);
    await store.recordFinalized(
      { ...base, statement: { ...base.statement, target: TARGET }, leaves: [{ ...base.leaves[0]!, origin, size: 2 }] },
      new Map(),
      clock.now,
    );
    assert.equal(await store.anchoredSize(TARGET, origin), 2);
    assert.deepEqual(await leaves.pending(TARGET), []);
    assert.deepEqual(await store.due(TARGET), [], 'what is anchored satisfies the due');
    // A due for a size beyond what is anchored (raised by another front end's event) is kept.
    await store.markDue(TARGET, NS, 2 * EPOCH_MS, 3);
    assert.deepEqual(await leaves.pending(TARGET), []);
    assert.deepEqual(await store.due(TARGET), [
      { target: TARGET, namespace: NS, dueAtMs: 2 * EPOCH_MS, sealedSize: 3 },
    ]);
  });
});
