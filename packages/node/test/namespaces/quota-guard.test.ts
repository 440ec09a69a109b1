import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import type { LogEngine } from '../../src/index.js';
import { QuotaGuard, type QuotaLimits } from '../../src/namespaces/quota-guard.js';
import { entry, open, tempDirs } from '../log/engine-fixture.js';

const dirs = tempDirs('vm-quota-');
after(() => dirs.cleanup());

const quota = (entries: number | null, bytes: number | null = null): QuotaLimits => ({
  quota_entries: entries,
  quota_bytes: bytes,
});

/** An engine stand-in holding `size` entries of `bytes` bytes in total for every namespace. */
function fakeEngine(usage: { size: number; bytes: number }): LogEngine {
  return { sequencedSize: () => usage.size, storedBytes: () => usage.bytes } as unknown as LogEngine;
}

const exceeded = (pattern: RegExp) => (e: unknown) =>
  isRemembrancerError(e, 'QUOTA_EXCEEDED') && pattern.test(e.message);

describe('QuotaGuard', () => {
  test('counts committed entries plus appends in flight against quota_entries', () => {
    const g = new QuotaGuard(fakeEngine({ size: 8, bytes: 0 }));
    const release = g.reserve('t:a', 2, 10, quota(10));
    assert.deepEqual(g.reserved('t:a'), { entries: 2, bytes: 10 });
    assert.throws(
      () => g.reserve('t:a', 1, 5, quota(10)),
      exceeded(/storage quota of 10 entries: 8 stored and 2 in appends under way, this request adds 1/),
    );
    assert.deepEqual(g.reserved('t:a'), { entries: 2, bytes: 10 }, 'a refusal reserves nothing');
    release();
    g.reserve('t:a', 2, 5, quota(10));
  });

  test('counts committed bytes plus bytes in flight against quota_bytes', () => {
    const usage = { size: 3, bytes: 900 };
    const g = new QuotaGuard(fakeEngine(usage));
    const r1 = g.reserve('t:a', 1, 60, quota(null, 1000));
    assert.throws(
      () => g.reserve('t:a', 1, 41, quota(null, 1000)),
      exceeded(/1000 bytes: 900 stored and 60 in appends under way, this request adds 41/),
    );
    const r2 = g.reserve('t:a', 1, 40, quota(null, 1000));
    // The appends committed: the engine counts them, the caller releases.
    usage.bytes = 1000;
    r1();
    r2();
    assert.throws(() => g.reserve('t:a', 1, 1, quota(null, 1000)), exceeded(/1000 stored, this request adds 1$/));
    g.reserve('t:a', 1, 0, quota(null, 1000));
  });

  test('release is idempotent and frees only its own reservation', () => {
    const g = new QuotaGuard(fakeEngine({ size: 0, bytes: 0 }));
    const a = g.reserve('t:a', 3, 0, quota(5));
    const b = g.reserve('t:a', 2, 0, quota(5));
    a();
    a();
    assert.deepEqual(g.reserved('t:a'), { entries: 2, bytes: 0 });
    assert.throws(() => g.reserve('t:a', 4, 0, quota(5)), exceeded(/5 entries/));
    b();
    assert.deepEqual(g.reserved('t:a'), { entries: 0, bytes: 0 });
    g.reserve('t:a', 5, 0, quota(5));
  });

  test('namespaces are independent; null quotas are unlimited but still reserve', () => {
    const g = new QuotaGuard(fakeEngine({ size: 0, bytes: 0 }));
    g.reserve('t:a', 5, 0, quota(5));
    g.reserve('t:b', 5, 0, quota(5));
    const r = g.reserve('t:c', 1e6, 1e9, quota(null, null));
    assert.deepEqual(g.reserved('t:c'), { entries: 1e6, bytes: 1e9 });
    r();
    assert.deepEqual(g.reserved('t:c'), { entries: 0, bytes: 0 });
  });

  test('quota 0 refuses every non-empty append', () => {
    const g = new QuotaGuard(fakeEngine({ size: 0, bytes: 0 }));
    assert.throws(() => g.reserve('t:a', 1, 1, quota(0)), exceeded(/quota of 0 entries/));
    g.reserve('t:a', 0, 0, quota(0));
  });

  test('bad sizes and quotas are INVALID_ARGUMENT', () => {
    const g = new QuotaGuard(fakeEngine({ size: 0, bytes: 0 }));
    for (const [n, b] of [
      [-1, 0],
      [0, -1],
      [1.5, 0],
      [0, NaN],
    ] as const) {
      assert.throws(
        () => g.reserve('t:a', n, b, quota(5)),
        (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
      );
    }
    for (const q of [quota(-1), quota(null, 1.5), quota(Infinity)]) {
      assert.throws(
        () => g.reserve('t:a', 1, 1, q),
        (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
      );
    }
  });

  test('with a real engine: stored bytes survive a restart and the quota holds across it', async () => {
    const dir = dirs.make();
    let e = await open(dir);
    await e.createNamespace('t:q');
    await e.createNamespace('t:other');
    assert.equal(e.storedBytes('t:q'), 0);
    const batch = Array.from({ length: 10 }, (_, i) => entry('t:q', i));
    const total = batch.reduce((n, b) => n + b.length, 0);
    const limits = quota(15, total + 50);
    let g = new QuotaGuard(e);
    const release = g.reserve('t:q', batch.length, total, limits);
    try {
      await e.append('t:q', batch);
    } finally {
      release();
    }
    await e.append('t:other', [entry('t:other', 0)]);
    assert.equal(e.storedBytes('t:q'), total);
    assert.equal(e.storedBytes('t:other'), entry('t:other', 0).length);
    assert.throws(() => g.reserve('t:q', 6, 6, limits), exceeded(/15 entries: 10 stored/));
    assert.throws(() => g.reserve('t:q', 1, 51, limits), exceeded(new RegExp(`${total + 50} bytes: ${total} stored`)));
    assert.throws(
      () => g.reserve('no:such', 1, 1, limits),
      (err) => isRemembrancerError(err, 'NAMESPACE_NOT_FOUND'),
    );
    assert.throws(
      () => e.storedBytes('no:such'),
      (err) => isRemembrancerError(err, 'NAMESPACE_NOT_FOUND'),
    );
    await e.close();

    e = await open(dir);
    assert.equal(e.storedBytes('t:q'), total);
    assert.equal(e.storedBytes('t:other'), entry('t:other', 0).length);
    g = new QuotaGuard(e);
    assert.throws(() => g.reserve('t:q', 1, 51, limits), exceeded(/bytes/));
    g.reserve('t:q', 5, 50, limits)();
    await e.close();
  });

  test('the error is a RemembrancerError with code QUOTA_EXCEEDED and no pointer', () => {
    const g = new QuotaGuard(fakeEngine({ size: 1, bytes: 0 }));
    try {
      g.reserve('t:a', 1, 0, quota(1));
      assert.fail('expected QUOTA_EXCEEDED');
    } catch (e) {
      assert.ok(e instanceof RemembrancerError);
      assert.equal(e.code, 'QUOTA_EXCEEDED');
      assert.equal(e.pointer, undefined);
    }
  });
});
