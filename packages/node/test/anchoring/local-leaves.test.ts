// Issue 10, item 2: the cadence's due events decide which namespaces' sealed checkpoints are offered
// at an epoch. A namespace due at the very moment an epoch closes belongs to that epoch: the leaves
// are offered only after every due event up to now was heard (LocalLeaves' catchUp), whatever the
// phase of the cadence scheduler's own timer.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalBytes } from '@vaultmesh/core';
import type { LogEngine } from '../../src/log/log-engine.js';
import { AnchorStore } from '../../src/anchoring/anchor-store.js';
import { LocalLeaves } from '../../src/anchoring/local-leaves.js';
import { CadenceScheduler } from '../../src/namespaces/cadence-scheduler.js';
import { CadenceStore } from '../../src/namespaces/cadence-store.js';
import { LogSignatureSealing } from '../../src/namespaces/sealing-without-witnesses.js';
import { open, tempDirs } from '../log/engine-fixture.js';

const dirs = tempDirs('remembrancer-local-leaves-');
const NS = 'dao:leaves';
const TARGET = 'rfc3161:test';
const EPOCH_MS = 5_000;

let engine: LogEngine;
const closers: (() => void)[] = [];

before(async () => {
  engine = await open(dirs.make());
  await engine.createNamespace(NS);
  await engine.append(NS, [canonicalBytes({ n: 1 }), canonicalBytes({ n: 2 })]);
  await engine.publishCheckpoint(NS);
});

after(async () => {
  for (const close of closers) close();
  await engine.close();
  dirs.cleanup();
});

/** A node's due queue and scheduler on their own files, the clock at `clock.now`. */
function leavesWith(catchUp: boolean, clock: { now: number }): { leaves: LocalLeaves; scheduler: CadenceScheduler } {
  const dir = dirs.make();
  const scheduler = new CadenceScheduler({ store: new CadenceStore(`${dir}-cadence.sqlite`), now: () => clock.now });
  const store = new AnchorStore(`${dir}-anchoring.sqlite`);
  closers.push(
    () => scheduler.close(),
    () => store.close(),
  );
  // Due every epoch from an epoch boundary on: due times fall exactly on epoch closes.
  scheduler.apply(NS, { fast: { target: TARGET, every: '5s', confirmations: 0 } }, 0);
  const leaves = new LocalLeaves({
    engine,
    sealing: new LogSignatureSealing(engine),
    store,
    checkpointNote: (_origin, cp) => cp.note,
    witnessPolicy: () => undefined,
    isConfigured: (t) => t === TARGET,
    ...(catchUp ? { catchUp: () => void scheduler.tick() } : {}),
  });
  scheduler.onDue((e) => leaves.onDue(e));
  return { leaves, scheduler };
}

test('a namespace due exactly at an epoch close is offered for that epoch, before the scheduler timer ticks', async () => {
  const clock = { now: EPOCH_MS - 1 };
  const { leaves } = leavesWith(true, clock);
  assert.deepEqual(await leaves.pending(TARGET), [], 'nothing is due before the close');
  clock.now = EPOCH_MS; // the close and the due time; no timer has ticked
  const offered = await leaves.pending(TARGET);
  assert.equal(offered.length, 1);
  assert.equal(offered[0]!.size, 2);
  assert.equal(offered[0]!.origin, engine.getNamespace(NS)!.origin);
});

test('without the catch-up the same due event waits for the timer, and the leaf for the next epoch', async () => {
  const clock = { now: EPOCH_MS - 1 };
  const { leaves, scheduler } = leavesWith(false, clock);
  clock.now = EPOCH_MS;
  assert.deepEqual(await leaves.pending(TARGET), []);
  scheduler.tick();
  assert.equal((await leaves.pending(TARGET)).length, 1, "the timer's tick queues it");
});
