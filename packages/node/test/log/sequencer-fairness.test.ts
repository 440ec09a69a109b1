import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isRemembrancerError } from '@vaultmesh/core';
import { Sequencer, type AppendResult, type NamespaceGroup, type SequencerOptions } from '../../src/log/index.js';

const A = 1;
const B = 2;
const LIMIT = { timeout: 60_000 };

const options = (o: Partial<SequencerOptions> = {}): SequencerOptions => ({
  batchMaxEntries: 4096,
  batchMaxAgeMs: 5,
  queueMaxEntries: 16_384,
  queueMaxBytes: 1 << 30,
  ...o,
});

/** A sequencer that never commits on its own (no batch fills, the age is an hour): admission alone. */
function idle(o: Partial<SequencerOptions> = {}) {
  const s = new Sequencer(options({ batchMaxEntries: 1 << 20, batchMaxAgeMs: 3_600_000, ...o }), () => {
    throw new Error('no commit expected');
  });
  const pending: Promise<unknown>[] = [];
  return {
    s,
    /** Enqueues and returns whether it was admitted; a refusal must be QUEUE_FULL. */
    offer(ns: number, sizes: number | number[]): boolean {
      const entries = (Array.isArray(sizes) ? sizes : Array.from({ length: sizes }, () => 1)).map(
        (n) => new Uint8Array(n),
      );
      try {
        pending.push(s.enqueue(ns, entries).catch(() => {}));
        return true;
      } catch (e) {
        assert.ok(isRemembrancerError(e, 'QUEUE_FULL'), String(e));
        return false;
      }
    },
    /** Clears the timer and settles everything queued. */
    async end(): Promise<void> {
      s.rejectAll(new Error('test over'));
      await Promise.all(pending);
    },
  };
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const entriesOf = (n: number): Uint8Array[] => Array.from({ length: n }, (_, i) => Uint8Array.of(i & 0xff));

/**
 * A commit that counts batches (cuts) and records, per namespace and index, the batch that
 * committed it; `nextCommit()` resolves after the next commit.
 */
function countingCommit() {
  const sizes = new Map<number, number>();
  const batchOf = new Map<number, number[]>();
  const batches: { ns: number; entries: number }[][] = [];
  let wake: (() => void)[] = [];
  const commit = (groups: readonly NamespaceGroup[]): AppendResult[][] => {
    const no = batches.length;
    batches.push(groups.map((g) => ({ ns: g.ns, entries: g.entries.length })));
    const out = groups.map((g) => {
      const first = sizes.get(g.ns) ?? 0;
      sizes.set(g.ns, first + g.entries.length);
      let list = batchOf.get(g.ns);
      if (list === undefined) batchOf.set(g.ns, (list = []));
      for (let i = 0; i < g.entries.length; i++) list[first + i] = no;
      return g.entries.map((_, i) => ({ index: first + i, leafHash: new Uint8Array(32) }));
    });
    const w = wake;
    wake = [];
    queueMicrotask(() => w.forEach((f) => f()));
    return out;
  };
  return {
    commit,
    batches,
    /** Batches cut so far (each is committed as soon as it is cut). */
    cut: () => batches.length,
    batchOf: (ns: number, index: number) => batchOf.get(ns)![index]!,
    nextCommit: () => new Promise<void>((resolve) => wake.push(resolve)),
  };
}

/**
 * A tenant flooding: `lanes` concurrent append calls of `callSize` entries, each lane enqueuing
 * again as soon as its call completes; a refused lane (QUEUE_FULL) waits for the next commit.
 */
async function flood(
  s: Sequencer,
  ns: number,
  callSize: number,
  lanes: number,
  stop: () => boolean,
  nextCommit: () => Promise<void>,
) {
  const call = entriesOf(callSize);
  let refused = 0;
  let committed = 0;
  const lane = async () => {
    while (!stop()) {
      try {
        await s.enqueue(ns, call);
        committed++;
      } catch (e) {
        if (!isRemembrancerError(e, 'QUEUE_FULL')) throw e;
        refused++;
        await nextCommit();
      }
    }
  };
  await Promise.all(Array.from({ length: lanes }, lane));
  return { refused, committed };
}

describe('Sequencer fair admission', () => {
  test('a lone namespace may hold half the queue; past that it gets QUEUE_FULL naming its share', async () => {
    const q = idle({ queueMaxEntries: 100 });
    for (let i = 0; i < 5; i++) assert.ok(q.offer(A, 10));
    assert.equal(q.s.stats().pendingEntries, 50);
    assert.throws(
      () => q.s.enqueue(A, entriesOf(1)),
      (e) => isRemembrancerError(e, 'QUEUE_FULL') && /fair share/.test(e.message),
    );
    const st = q.s.stats();
    assert.equal(st.pendingEntries, 50, 'the refused call queued nothing');
    assert.equal(st.rejectedFairShare, 1);
    assert.equal(st.rejectedQueueFull, 1);
    assert.equal(st.pendingNamespaces, 1);
    await q.end();
  });

  test('another namespace is admitted while the first holds its full share, up to half of what is left', async () => {
    const q = idle({ queueMaxEntries: 100 });
    for (let i = 0; i < 5; i++) assert.ok(q.offer(A, 10));
    assert.ok(!q.offer(A, 1), 'A holds its full share');
    assert.ok(q.offer(B, 1), 'B is admitted');
    assert.ok(q.offer(B, 20));
    // B may hold floor((100 - 50) / 2) = 25.
    assert.ok(!q.offer(B, 5));
    assert.ok(q.offer(B, 4));
    assert.ok(!q.offer(B, 1));
    // A's share shrank with B's work: floor((100 - 25) / 2) = 37 < 50, so A stays refused.
    assert.ok(!q.offer(A, 1));
    // A third namespace finds room: 25 are free.
    assert.ok(q.offer(3, 1));
    assert.equal(q.s.stats().pendingNamespaces, 3);
    await q.end();
  });

  test('with nothing pending, a call of up to batchMaxEntries passes even when larger than the share', async () => {
    const q = idle({ queueMaxEntries: 100, batchMaxEntries: 80 });
    assert.ok(q.offer(A, 80), 'larger than the share of 50, not than a batch');
    assert.ok(!q.offer(A, 1), 'but then the namespace is over its share');
    assert.ok(!q.offer(B, 21), 'the global bound still holds');
    assert.ok(q.offer(B, 20));
    await q.end();
    const r = idle({ queueMaxEntries: 100, batchMaxEntries: 80 });
    assert.throws(
      () => r.s.enqueue(A, entriesOf(81)),
      (e) => isRemembrancerError(e, 'QUEUE_FULL') && /exceeds both/.test(e.message),
    );
    assert.equal(r.s.stats().rejectedFairShare, 1);
    await r.end();
  });

  test('bytes are shared the same way', async () => {
    const q = idle({ queueMaxBytes: 1000 });
    assert.ok(q.offer(A, [400]));
    assert.ok(!q.offer(A, [101]), 'A may hold 500 bytes');
    assert.ok(q.offer(A, [100]));
    assert.ok(q.offer(B, [240]), 'a namespace with nothing pending needs only free room');
    assert.ok(!q.offer(B, [11]), 'B may hold floor((1000 - 500) / 2) = 250 bytes');
    assert.ok(q.offer(B, [10]));
    await q.end();
  });

  test('property: namespaces that keep queueing never fill the queue; a fresh namespace finds room', async () => {
    const op = fc.record({ ns: fc.integer({ min: 1, max: 6 }), size: fc.integer({ min: 1, max: 70 }) });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 400 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(op, { maxLength: 120 }),
        async (max, batch, ops) => {
          const q = idle({ queueMaxEntries: max, batchMaxEntries: batch });
          const held = new Map<number, number>();
          try {
            for (const { ns, size } of ops) {
              const before = q.s.stats();
              const own = held.get(ns) ?? 0;
              const free = max - before.pendingEntries;
              const ok = q.offer(ns, size);
              const after = q.s.stats();
              assert.ok(after.pendingEntries <= max);
              if (!ok) {
                assert.equal(after.pendingEntries, before.pendingEntries, 'a refusal queues nothing');
                // A single entry from a namespace with nothing pending is refused only by a full queue.
                if (own === 0 && size === 1) assert.equal(free, 0);
                continue;
              }
              held.set(ns, own + size);
              if (own > 0) {
                // Dynamic threshold: after admitting a namespace with work, at least as much stays free as it holds.
                assert.ok(
                  max - after.pendingEntries >= own + size,
                  `free ${max - after.pendingEntries} < held ${own + size}`,
                );
              } else {
                assert.ok(size <= Math.max(batch, Math.floor(free / 2)));
              }
            }
          } finally {
            await q.end();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Sequencer fair scheduling', () => {
  test('a call that does not fit is passed over for smaller ones and served first in the next batch', async () => {
    const c = countingCommit();
    const s = new Sequencer(options({ batchMaxEntries: 10, batchMaxAgeMs: 3_600_000 }), c.commit);
    const calls = [s.enqueue(A, entriesOf(6)), s.enqueue(B, entriesOf(6))];
    for (let i = 0; i < 5; i++) calls.push(s.enqueue(3, entriesOf(1)));
    await withTimeout(s.drain(), 10_000);
    await Promise.all(calls);
    assert.deepEqual(c.batches, [
      [
        { ns: A, entries: 6 },
        { ns: 3, entries: 4 },
      ],
      [
        { ns: B, entries: 6 },
        { ns: 3, entries: 1 },
      ],
    ]);
  });

  test(
    "fairness: while A floods (40 × 1,000-entry calls), each of B's appends commits within 2 batches",
    LIMIT,
    async () => {
      const c = countingCommit();
      const s = new Sequencer(options(), c.commit);
      let stop = false;
      const flooding = flood(s, A, 1000, 40, () => stop, c.nextCommit);
      const delays: number[] = [];
      for (let i = 0; i < 40; i++) {
        const cutBefore = c.cut();
        // Throws (failing the test) if B were refused.
        const [r] = await s.enqueue(B, [Uint8Array.of(i)]);
        // Batches cut after B's call was queued, up to and including the one that committed it.
        delays.push(c.batchOf(B, r!.index) - cutBefore + 1);
      }
      stop = true;
      const a = await flooding;
      assert.ok(a.refused > 0, 'A was pushed back: the queue was contended');
      assert.ok(s.stats().rejectedFairShare > 0);
      assert.ok(Math.max(...delays) <= 2, `B waited ${Math.max(...delays)} batches`);
      // A was not starved either: it kept most of each batch.
      assert.ok(a.committed >= 40, `A committed ${a.committed} calls`);
    },
  );

  test(
    'calls larger than a batch and several flooding tenants: each waits at most one batch per other tenant',
    LIMIT,
    async () => {
      const c = countingCommit();
      const s = new Sequencer(options({ batchMaxEntries: 1000, queueMaxEntries: 30_000 }), c.commit);
      let stop = false;
      const floods = [11, 12, 13].map((ns) => flood(s, ns, 2500, 8, () => stop, c.nextCommit));
      const delays: number[] = [];
      for (let i = 0; i < 20; i++) {
        const cutBefore = c.cut();
        const [r] = await s.enqueue(B, [Uint8Array.of(i)]);
        delays.push(c.batchOf(B, r!.index) - cutBefore + 1);
      }
      stop = true;
      const results = await Promise.all(floods);
      // Every batch here holds one 2,500-entry call (larger than a batch) or B's entry.
      assert.ok(c.batches.every((b) => b.length === 1 || b.every((g) => g.entries <= 1000)));
      assert.ok(Math.max(...delays) <= 4, `B waited ${Math.max(...delays)} batches with 3 flooding tenants`);
      assert.ok(results.every((r) => r.committed > 0));
    },
  );
});
