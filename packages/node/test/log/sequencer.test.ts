import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import { Sequencer, type AppendResult, type NamespaceGroup, type SequencerOptions } from '../../src/log/index.js';

const entry = (n: number): Uint8Array => Uint8Array.of(n & 0xff);
const options = (o: Partial<SequencerOptions> = {}): SequencerOptions => ({
  batchMaxEntries: 4,
  batchMaxAgeMs: 5,
  queueMaxEntries: 100,
  queueMaxBytes: 1 << 20,
  ...o,
});

/** A fake commit: assigns indices per namespace and records every batch. */
function recorder(fail?: (batchNo: number) => boolean) {
  const sizes = new Map<number, number>();
  const batches: NamespaceGroup[][] = [];
  const commit = (groups: readonly NamespaceGroup[]): AppendResult[][] => {
    const no = batches.length;
    batches.push(groups.map((g) => ({ ns: g.ns, entries: [...g.entries] })));
    if (fail?.(no)) throw new RemembrancerError('STORAGE_FAILURE', `injected failure in batch ${no}`);
    return groups.map((g) => {
      const first = sizes.get(g.ns) ?? 0;
      sizes.set(g.ns, first + g.entries.length);
      return g.entries.map((_, i) => ({ index: first + i, leafHash: new Uint8Array(32) }));
    });
  };
  return { commit, batches, sizes };
}

describe('Sequencer', () => {
  test('cuts batches by size and resolves indices in queue order', async () => {
    const r = recorder();
    const s = new Sequencer(options(), r.commit);
    const calls = Array.from({ length: 10 }, (_, i) => s.enqueue(1, [entry(i)]));
    const results = await Promise.all(calls);
    assert.deepEqual(
      results.map((x) => x[0]!.index),
      [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    );
    assert.deepEqual(
      r.batches.map((b) => b[0]!.entries.length),
      [4, 4, 2],
    );
    assert.equal(s.stats().commits, 3);
  });

  test('a lone entry commits after batchMaxAgeMs', async () => {
    const r = recorder();
    const s = new Sequencer(options({ batchMaxAgeMs: 30 }), r.commit);
    const t0 = performance.now();
    await s.enqueue(1, [entry(1)]);
    assert.ok(performance.now() - t0 >= 25, 'waited for the batch age');
    assert.equal(r.batches.length, 1);
  });

  test('an append call is never split across batches, even when larger than a batch', async () => {
    const r = recorder();
    const s = new Sequencer(options(), r.commit);
    const a = s.enqueue(1, [entry(0), entry(1), entry(2)]);
    const b = s.enqueue(1, [entry(3), entry(4), entry(5), entry(6), entry(7), entry(8)]);
    const c = s.enqueue(1, [entry(9)]);
    assert.deepEqual(
      (await b).map((x) => x.index),
      [3, 4, 5, 6, 7, 8],
    );
    await Promise.all([a, c]);
    assert.deepEqual(
      r.batches.map((bt) => bt[0]!.entries.length),
      [3, 6, 1],
    );
  });

  test('namespaces take turns: a flood in one does not starve another', async () => {
    const r = recorder();
    const s = new Sequencer(options({ batchMaxEntries: 8 }), r.commit);
    const flood = Array.from({ length: 40 }, (_, i) => s.enqueue(1, [entry(i)]));
    const quiet = [s.enqueue(2, [entry(100)]), s.enqueue(2, [entry(101)]), s.enqueue(3, [entry(102)])];
    await Promise.all([...flood, ...quiet]);
    // All of namespace 2 and 3 ride in the first batch although 40 entries of 1 were queued first.
    const first = r.batches[0]!;
    assert.deepEqual(first.map((g) => g.ns).sort(), [1, 2, 3]);
    const counts = new Map(first.map((g) => [g.ns, g.entries.length]));
    assert.equal(counts.get(2), 2);
    assert.equal(counts.get(3), 1);
    assert.equal(counts.get(1), 5);
    assert.deepEqual(r.sizes.get(1), 40);
  });

  test('QUEUE_FULL pushback is immediate and queues nothing', async () => {
    const r = recorder();
    const s = new Sequencer(options({ queueMaxEntries: 5, batchMaxAgeMs: 20 }), r.commit);
    const ok = s.enqueue(1, [entry(0), entry(1), entry(2)]);
    assert.throws(
      () => s.enqueue(1, [entry(3), entry(4), entry(5)]),
      (e) => isRemembrancerError(e, 'QUEUE_FULL'),
    );
    assert.equal(s.stats().pendingEntries, 3);
    assert.equal(s.stats().rejectedQueueFull, 1);
    await ok;
    assert.deepEqual(
      r.batches.flat().map((g) => g.entries.length),
      [3],
    );
    const bytes = new Sequencer(options({ queueMaxBytes: 4 }), recorder().commit);
    const first = bytes.enqueue(1, [new Uint8Array(3)]);
    assert.throws(
      () => bytes.enqueue(1, [new Uint8Array(2)]),
      (e) => isRemembrancerError(e, 'QUEUE_FULL'),
    );
    await first;
  });

  test('a failed commit rejects exactly its batch; later batches proceed', async () => {
    const r = recorder((no) => no === 0);
    const errors: unknown[] = [];
    const s = new Sequencer(options(), r.commit, (e) => errors.push(e));
    const calls = Array.from({ length: 6 }, (_, i) => s.enqueue(1, [entry(i)]));
    const settled = await Promise.allSettled(calls);
    assert.deepEqual(
      settled.map((x) => x.status),
      ['rejected', 'rejected', 'rejected', 'rejected', 'fulfilled', 'fulfilled'],
    );
    assert.ok(isRemembrancerError((settled[0] as PromiseRejectedResult).reason, 'STORAGE_FAILURE'));
    assert.deepEqual(
      settled.slice(4).map((x) => (x as PromiseFulfilledResult<AppendResult[]>).value[0]!.index),
      [0, 1],
    );
    assert.equal(s.stats().failedCommits, 1);
    assert.equal(errors.length, 1);
  });

  test('drain commits everything without waiting for the batch age', async () => {
    const r = recorder();
    const s = new Sequencer(options({ batchMaxAgeMs: 60_000 }), r.commit);
    const p = s.enqueue(1, [entry(1)]);
    const t0 = performance.now();
    await s.drain();
    assert.ok(performance.now() - t0 < 5000);
    await p;
    await s.drain();
  });

  test('many concurrent appends become few commits', async () => {
    const r = recorder();
    const s = new Sequencer(options({ batchMaxEntries: 1000, queueMaxEntries: 10_000 }), r.commit);
    await Promise.all(Array.from({ length: 5000 }, (_, i) => s.enqueue(i % 3, [entry(i)])));
    assert.ok(r.batches.length <= 6, `${r.batches.length} commits`);
    assert.equal(s.stats().committedEntries, 5000);
  });
});
