import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { NodeMetrics } from '../../src/metrics/node-metrics.js';
import { NodeSeries, type AnchoringLagSource } from '../../src/metrics/node-series.js';
import { entry, open, tempDirs } from '../log/engine-fixture.js';

const dirs = tempDirs('remembrancer-series-');
after(() => dirs.cleanup());

/** A clock far below the wall clock: a checkpoint's real publishedAt is clamped to the probe's time. */
function stepClock(start = 1_000_000) {
  let now = start;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

test('the series counts appends per second and checkpoint latency from probe to signing, newest last', async () => {
  const engine = await open(dirs.make());
  try {
    await engine.createNamespace('t:old');
    await engine.append('t:old', [entry('t:old', 0), entry('t:old', 1)]);
    const clock = stepClock();
    const series = new NodeSeries({ engine, now: clock.now, intervalMs: 10_000, capacity: 4 });
    assert.deepEqual(series.view().t, [], 'empty before the first sample');

    await engine.createNamespace('t:a');
    await engine.append(
      't:a',
      [0, 1, 2, 3, 4].map((i) => entry('t:a', i)),
    );
    clock.advance(100);
    series.probe();
    await engine.append('t:a', [entry('t:a', 5)]);
    clock.advance(200);
    series.probe();
    clock.advance(400);
    await engine.publishCheckpoint('t:a');
    series.probe();
    clock.advance(9_300);
    const p = await series.sample();
    // The two entries of t:old predate the series; t:a's six are counted.
    assert.equal(p.appendRate, 0.6);
    assert.equal(p.checkpoints, 1);
    // Marks at +100 (size 5) and +300 (size 6), both covered by the checkpoint seen at +700.
    assert.equal(p.checkpointLatencyMax, 600);
    assert.ok(p.checkpointLatencyP50! >= 400 && p.checkpointLatencyP50! <= 420, String(p.checkpointLatencyP50));

    clock.advance(10_000);
    const quiet = await series.sample();
    assert.equal(quiet.appendRate, 0);
    assert.equal(quiet.checkpointLatencyP50, null, 'no checkpoint, no latency');

    const view = series.view();
    assert.equal(view.interval_s, 10);
    assert.deepEqual(view.t, [1010, 1020]);
    assert.deepEqual(view.append_rate, [0.6, 0]);
    assert.deepEqual(view.checkpoint_latency_ms_max, [600, null]);
    assert.deepEqual(series.view(1010).t, [1020], 'since: only points after it');

    // Wrap-around: capacity 4 keeps the last four intervals.
    for (let i = 0; i < 5; i++) {
      clock.advance(10_000);
      await engine.append('t:a', [entry('t:a', 10 + i)]);
      await series.sample();
    }
    const wrapped = series.view();
    assert.deepEqual(wrapped.t, [1040, 1050, 1060, 1070]);
    assert.deepEqual(wrapped.append_rate, [0.1, 0.1, 0.1, 0.1]);
    assert.equal(wrapped.capacity, 4);
  } finally {
    await engine.close();
  }
});

test("each probe's growth is timed to the first checkpoint that covers it", async () => {
  const engine = await open(dirs.make());
  try {
    await engine.createNamespace('t:b');
    const clock = stepClock();
    const series = new NodeSeries({ engine, now: clock.now });
    await engine.append('t:b', [entry('t:b', 0)]);
    clock.advance(50);
    series.probe(); // mark: size 1 at +50
    clock.advance(50);
    await engine.publishCheckpoint('t:b');
    await engine.append('t:b', [entry('t:b', 1)]);
    series.probe(); // checkpoint of size 1 covers the first mark (50 ms); mark size 2 at +100
    clock.advance(250);
    await engine.publishCheckpoint('t:b');
    series.probe(); // covers the second mark (250 ms)
    clock.advance(1_000);
    const p = await series.sample();
    assert.equal(p.checkpoints, 2);
    assert.equal(p.checkpointLatencyMax, 250);
    // The median's bucket reads within 5 % above the true 50 ms.
    assert.ok(p.checkpointLatencyP50! >= 50 && p.checkpointLatencyP50! <= 52.5, String(p.checkpointLatencyP50));
  } finally {
    await engine.close();
  }
});

test('cosigning rounds come from the histogram as deltas, and anchoring lag per target against its epoch', async () => {
  const engine = await open(dirs.make());
  try {
    const clock = stepClock();
    const metrics = new NodeMetrics();
    let anchoring: AnchoringLagSource = {
      targets: [{ target: 'rfc3161:local', epoch_ms: 60_000, last_finalized: null }],
    };
    const series = new NodeSeries({ engine, metrics, anchoring: async () => anchoring, now: clock.now });
    metrics.cosignRound.observe(0.1);
    metrics.cosignRound.observe(0.3);
    clock.advance(10_000);
    const first = await series.sample();
    assert.equal(first.cosignRounds, 2);
    assert.ok(Math.abs(first.cosignLatencyMean! - 200) < 1e-9);
    clock.advance(10_000);
    anchoring = {
      targets: [
        { target: 'rfc3161:local', epoch_ms: 60_000, last_finalized: { age_ms: 75_500 } },
        { target: 'eip155:31337', epoch_ms: 120_000, last_finalized: { age_ms: 1_000 } },
      ],
    };
    const second = await series.sample();
    assert.equal(second.cosignRounds, 0);
    assert.equal(second.cosignLatencyMean, null);
    const view = series.view();
    assert.deepEqual(view.cosign_rounds, [2, 0]);
    assert.deepEqual(view.anchoring_lag_s, { 'rfc3161:local': [null, 75.5], 'eip155:31337': [null, 1] });
    assert.deepEqual(view.anchoring_epoch_s, { 'rfc3161:local': 60, 'eip155:31337': 120 });
  } finally {
    await engine.close();
  }
});

test('start() runs unref’d timers and stop() clears them', async () => {
  const engine = await open(dirs.make());
  try {
    const series = new NodeSeries({ engine, intervalMs: 20, probeMs: 5 });
    series.start();
    series.start(); // idempotent
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('no sample within 5 s')), 5_000);
      const poll = setInterval(() => {
        if (series.view().t.length > 0) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 5);
    });
    series.stop();
    const n = series.view().t.length;
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(series.view().t.length, n, 'no sample after stop');
  } finally {
    await engine.close();
  }
});
