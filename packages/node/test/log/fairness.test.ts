// Issue 4, item 5: one flooding tenant cannot delay another's appends beyond a bounded share.
// A real engine on SQLite; delays are counted in group commits, never in time.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isRemembrancerError } from '@vaultmesh/core';
import type { ObservableLogEngine } from '../../src/index.js';
import { entry, open, tempDirs } from './engine-fixture.js';

const dirs = tempDirs('vm-fair-');
after(() => dirs.cleanup());

const LIMIT = { timeout: 120_000 };

/**
 * Tenant `ns` floods: `lanes` concurrent appends of `callSize` entries, each lane appending again
 * as soon as its call settles. A lane pushed back with QUEUE_FULL waits for one of the tenant's
 * appends to settle (each settled append wakes one waiting lane, like a client retrying when a
 * slot frees) and retries; there is always one in flight then, as a namespace is refused its
 * share only while it holds pending work.
 */
function flood(e: ObservableLogEngine, ns: string, callSize: number, lanes: number) {
  const call = Array.from({ length: callSize }, (_, i) => entry(ns, i));
  const waiting: (() => void)[] = [];
  let stopped = false;
  let inFlight = 0;
  let refused = 0;
  let committed = 0;
  const lane = async () => {
    while (!stopped) {
      inFlight++;
      try {
        await e.append(ns, call);
        committed++;
      } catch (err) {
        if (!isRemembrancerError(err, 'QUEUE_FULL')) throw err;
        refused++;
        assert.ok(inFlight > 1, 'refused although nothing of this tenant was pending');
        inFlight--;
        await new Promise<void>((resolve) => waiting.push(resolve));
        continue;
      }
      inFlight--;
      waiting.shift()?.();
    }
  };
  const done = Promise.all(Array.from({ length: lanes }, lane)).then(() => ({ refused, committed }));
  return {
    done,
    stop(): Promise<{ refused: number; committed: number }> {
      stopped = true;
      for (const wake of waiting.splice(0)) wake();
      return done;
    },
  };
}

describe('fair sequencing across namespaces (real engine, SQLite)', () => {
  test(
    'while A floods with 40 concurrent 1,000-entry appends, every single-entry append of B commits within 2 group commits',
    LIMIT,
    async () => {
      const e = await open(dirs.make(), { queueMaxEntries: 8192, batchMaxEntries: 2048 });
      await e.createNamespace('t:a');
      await e.createNamespace('t:b');
      const flooding = flood(e, 't:a', 1000, 40);
      const delays: number[] = [];
      const bBytes: number[] = [];
      for (let i = 0; i < 25; i++) {
        const before = e.stats().commits;
        const data = entry('t:b', i);
        try {
          const [r] = await e.append('t:b', [data]);
          assert.equal(r!.index, i);
        } catch (err) {
          assert.fail(`B's append ${i} was refused while A flooded: ${String(err)}`);
        }
        bBytes.push(data.length);
        // The commit counter is read before any later batch can be cut (that needs a new macrotask).
        delays.push(e.stats().commits - before);
      }
      const a = await flooding.stop();
      const st = e.stats();
      assert.ok(a.refused > 0, 'A was being refused with QUEUE_FULL');
      assert.equal(
        st.rejectedFairShare,
        st.rejectedQueueFull,
        'A was refused for its share; the queue itself never filled',
      );
      assert.ok(Math.max(...delays) <= 2, `B's appends waited ${delays.join(',')} group commits`);
      // Everything acknowledged is stored, and the byte totals match what was written.
      assert.equal(e.sequencedSize('t:b'), 25);
      assert.equal(e.sequencedSize('t:a'), a.committed * 1000);
      assert.deepEqual(await e.getEntry('t:b', 24), entry('t:b', 24));
      assert.equal(
        e.storedBytes('t:b'),
        bBytes.reduce((x, y) => x + y, 0),
      );
      const perCall = Array.from({ length: 1000 }, (_, i) => entry('t:a', i).length).reduce((x, y) => x + y, 0);
      assert.equal(e.storedBytes('t:a'), a.committed * perCall);
      await e.close();
    },
  );

  test('B is admitted while A holds its full share of the queue', LIMIT, async () => {
    // No batch fills and the age bound is an hour: nothing commits until close() drains.
    const e = await open(dirs.make(), { queueMaxEntries: 1000, batchMaxEntries: 4096, batchMaxAgeMs: 3_600_000 });
    await e.createNamespace('t:a');
    await e.createNamespace('t:b');
    const calls = (ns: string, n: number) => Array.from({ length: n }, (_, i) => entry(ns, i));
    const accepted: Promise<unknown>[] = [];
    for (let i = 0; i < 5; i++) accepted.push(e.append('t:a', calls('t:a', 100)));
    // A holds floor(1000 / 2) = 500: its share is used.
    await assert.rejects(
      e.append('t:a', calls('t:a', 1)),
      (err) => isRemembrancerError(err, 'QUEUE_FULL') && /fair share/.test(err.message),
    );
    assert.equal(e.stats().pendingEntries, 500);
    const b = e.append('t:b', calls('t:b', 1));
    accepted.push(b);
    accepted.push(e.append('t:b', calls('t:b', 200)));
    assert.equal(e.stats().pendingEntries, 701);
    assert.equal(e.stats().rejectedQueueFull, 1);
    await e.close();
    await Promise.all(accepted);
    assert.equal(e.stats().committedEntries, 701);
  });
});
