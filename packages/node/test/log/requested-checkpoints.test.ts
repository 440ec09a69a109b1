import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { entry, open, tempDirs } from './engine-fixture.js';

// Adaptive checkpoints at the engine: with the timer off, requestCheckpoint() alone makes the
// engine sign the integrated tree soon, and onCheckpoint listeners hear of every newer latest.
const dirs = tempDirs('remembrancer-requested-cp-');
after(() => dirs.cleanup());

/** Resolves with the next namespace onCheckpoint reports (rejects after a generous bound). */
function nextCheckpoint(e: Awaited<ReturnType<typeof open>>): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error('no checkpoint within 10 s'));
    }, 10_000);
    const unsubscribe = e.onCheckpoint((ns) => {
      clearTimeout(timer);
      unsubscribe();
      resolve(ns);
    });
  });
}

test('requestCheckpoint signs the integrated tree without the timer, and listeners hear of it', async () => {
  const e = await open(dirs.make(), { checkpointIntervalMs: 0, minCheckpointIntervalMs: 20 });
  try {
    await e.createNamespace('t:adaptive');
    await e.append('t:adaptive', [entry('t:adaptive', 0), entry('t:adaptive', 1)]);
    // A namespace starts with its empty checkpoint; the timer is off, so nothing signs the two entries.
    assert.equal(e.latestCheckpoint('t:adaptive')?.size, 0);
    const before = e.stats().checkpointsPublished;

    let heard = nextCheckpoint(e);
    e.requestCheckpoint('t:adaptive');
    assert.equal(await heard, 't:adaptive');
    assert.equal(e.latestCheckpoint('t:adaptive')?.size, 2);

    // Several requests in a row make one publication of what is integrated when it runs.
    await e.append('t:adaptive', [entry('t:adaptive', 2)]);
    heard = nextCheckpoint(e);
    for (let i = 0; i < 5; i++) e.requestCheckpoint('t:adaptive');
    await heard;
    assert.equal(e.latestCheckpoint('t:adaptive')?.size, 3);
    assert.equal(e.stats().checkpointsPublished, before + 2);

    // Nothing grew: a request signs nothing new.
    e.requestCheckpoint('t:adaptive');
    await e.publishCheckpoint('t:adaptive');
    assert.equal(e.stats().checkpointsPublished, before + 2);
  } finally {
    await e.close();
  }
});

test('minCheckpointIntervalMs is checked like the other engine settings', async () => {
  await assert.rejects(open(dirs.make(), { minCheckpointIntervalMs: -1 }), { code: 'CONFIG_INVALID' });
});
