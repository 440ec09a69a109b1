import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemembrancerError, crypto, verifyTimestampToken } from '@vaultmesh/core';
import {
  AnchorTargetError,
  Rfc3161Target,
  opensslVerifyToken,
  startDevTsa,
  type DevTsa,
  type Rfc3161TargetConfig,
} from '../../src/anchoring/index.js';

// Failover (`any`) and agreement (`all`) across two real OpenSSL TSAs, with retries and backoff;
// the backoff waits are recorded by an injected sleep, so nothing here sleeps for real.
let dir: string;
let first: DevTsa;
let second: DevTsa;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-rfc3161-target-'));
  [first, second] = await Promise.all([
    startDevTsa({ dir: join(dir, 'first'), name: 'first' }),
    startDevTsa({ dir: join(dir, 'second'), name: 'second' }),
  ]);
});

after(async () => {
  await Promise.all([first.stop(), second.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

const digest = crypto.sha256(new TextEncoder().encode('epoch 3 statement'));

function config(mode: 'any' | 'all', over: Partial<Rfc3161TargetConfig> = {}): Rfc3161TargetConfig {
  return {
    name: 'rfc3161:test',
    urls: [first.url, second.url],
    trustAnchorsPem: [first.caCertPem, second.caCertPem],
    policyOid: first.policyOid,
    mode,
    ...over,
  };
}

/** A sleep that records its waits and returns at once. */
function recorder(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms) => (waits.push(ms), Promise.resolve()) };
}

/** Requests each TSA received during `fn`. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; first: number; second: number }> {
  const a = first.requests();
  const b = second.requests();
  const result = await fn();
  return { result, first: first.requests() - a, second: second.requests() - b };
}

test('any: the first TSA answers and is the only one asked', async () => {
  const { sleep, waits } = recorder();
  const target = new Rfc3161Target(config('any'), { sleep });
  const { result, first: n1, second: n2 } = await counted(() => target.timestamp(digest));
  assert.equal(result.tokens.length, 1);
  assert.equal(result.tokens[0]!.tsaSubject, 'CN=first dev TSA');
  assert.deepEqual(result.attempts, [{ url: first.url, ok: true }]);
  assert.deepEqual([n1, n2, waits.length], [1, 0, 0]);
});

test('any: with the first TSA down, its retries back off (200, 400 ms) and the second TSA answers', async () => {
  first.setDown(true);
  try {
    const { sleep, waits } = recorder();
    const target = new Rfc3161Target(config('any'), { sleep });
    const { result, first: n1, second: n2 } = await counted(() => target.timestamp(digest));
    assert.equal(result.tokens[0]!.tsaSubject, 'CN=second dev TSA');
    assert.deepEqual(
      result.attempts.map((a) => [a.url, a.ok, a.code]),
      [
        [first.url, false, 'TSA_HTTP_ERROR'],
        [first.url, false, 'TSA_HTTP_ERROR'],
        [first.url, false, 'TSA_HTTP_ERROR'],
        [second.url, true, undefined],
      ],
    );
    assert.match(result.attempts[0]!.message!, /HTTP 503/);
    assert.deepEqual(waits, [200, 400], 'backoff doubles, and none before moving to the next TSA');
    assert.deepEqual([n1, n2], [3, 1], 'the TSAs counted every request, retries included');
  } finally {
    first.setDown(false);
  }
});

test('backoff doubles up to its cap', async () => {
  first.setDown(true);
  second.setDown(true);
  try {
    const { sleep, waits } = recorder();
    const target = new Rfc3161Target(config('any', { urls: [first.url] }), {
      sleep,
      attempts: 5,
      backoffMs: 200,
      maxBackoffMs: 500,
    });
    await assert.rejects(target.timestamp(digest), (e) => e instanceof AnchorTargetError && e.attempts.length === 5);
    assert.deepEqual(waits, [200, 400, 500, 500]);
  } finally {
    first.setDown(false);
    second.setDown(false);
  }
});

test('any: every TSA down is ANCHOR_TARGET_FAILED listing every attempt', async () => {
  first.setDown(true);
  second.setDown(true);
  try {
    const target = new Rfc3161Target(config('any'), { sleep: recorder().sleep, attempts: 2 });
    await assert.rejects(target.timestamp(digest), (e) => {
      assert.ok(e instanceof AnchorTargetError);
      assert.equal(e.code, 'ANCHOR_TARGET_FAILED');
      assert.equal(e.attempts.length, 4);
      assert.match(e.message, /^anchor target rfc3161:test \(any\): no TSA gave a valid token; attempts: /);
      assert.equal(e.message.match(/TSA_HTTP_ERROR TSA \S+ answered HTTP 503/g)?.length, 4);
      return true;
    });
  } finally {
    first.setDown(false);
    second.setDown(false);
  }
});

test('all: both TSAs give a token; each verifies here and with openssl ts -verify', async () => {
  const target = new Rfc3161Target(config('all'), { sleep: recorder().sleep });
  const { result, first: n1, second: n2 } = await counted(() => target.timestamp(digest));
  assert.deepEqual([n1, n2], [1, 1]);
  assert.deepEqual(
    result.tokens.map((t) => t.tsaSubject),
    ['CN=first dev TSA', 'CN=second dev TSA'],
  );
  for (const [token, tsa] of [
    [result.tokens[0]!, first],
    [result.tokens[1]!, second],
  ] as const) {
    await verifyTimestampToken(token.tokenDer, { digest, trustAnchorsPem: [tsa.caCertPem] });
    const verdict = await opensslVerifyToken({
      tokenDer: token.tokenDer,
      digest,
      caCertPem: tsa.caCertPem,
      tsaCertPem: tsa.tsaCertPem,
      dir,
    });
    assert.ok(verdict.ok, verdict.output);
  }
});

test('all: one TSA down fails with ANCHOR_TARGET_FAILED naming it, after its retries', async () => {
  second.setDown(true);
  try {
    const target = new Rfc3161Target(config('all'), { sleep: recorder().sleep });
    const { second: n2 } = await counted(() =>
      assert.rejects(target.timestamp(digest), (e) => {
        assert.ok(e instanceof AnchorTargetError, String(e));
        assert.match(e.message, new RegExp(`\\(all\\): no valid token from ${second.url}`));
        assert.deepEqual(
          e.attempts.map((a) => [a.url, a.ok]),
          [
            [first.url, true],
            [second.url, false],
            [second.url, false],
            [second.url, false],
          ],
        );
        return true;
      }),
    );
    assert.equal(n2, 3);
  } finally {
    second.setDown(false);
  }
});

test('a token that fails verification is not asked for again at the same TSA', async () => {
  // Trusting only the second TSA's CA: the first TSA's token fails the chain check once, then `any` moves on.
  const target = new Rfc3161Target(config('any', { trustAnchorsPem: [second.caCertPem] }), { sleep: recorder().sleep });
  const { result, first: n1 } = await counted(() => target.timestamp(digest));
  assert.equal(n1, 1);
  assert.deepEqual(
    result.attempts.map((a) => [a.ok, a.code]),
    [
      [false, 'TIMESTAMP_UNTRUSTED'],
      [true, undefined],
    ],
  );
});

test('an unreachable URL is retried and reported as TSA_UNREACHABLE', async () => {
  const target = new Rfc3161Target(config('any', { urls: ['http://127.0.0.1:1/', second.url] }), {
    sleep: recorder().sleep,
  });
  const result = await target.timestamp(digest);
  assert.deepEqual(
    result.attempts.map((a) => a.code ?? 'ok'),
    ['TSA_UNREACHABLE', 'TSA_UNREACHABLE', 'TSA_UNREACHABLE', 'ok'],
  );
});

test('a failing sleep or a bad digest is still a RemembrancerError', async () => {
  first.setDown(true);
  try {
    const target = new Rfc3161Target(config('any', { urls: [first.url] }), {
      sleep: () => Promise.reject(new Error('timer gone')),
    });
    await assert.rejects(
      target.timestamp(digest),
      (e) => e instanceof AnchorTargetError && /backoff failed: timer gone/.test(e.message),
    );
  } finally {
    first.setDown(false);
  }
  const target = new Rfc3161Target(config('any'));
  await assert.rejects(
    target.timestamp(new Uint8Array(5)),
    (e) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
  );
});

test('a target without URLs, anchors or a known mode is refused at construction', () => {
  for (const bad of [{ urls: [] }, { trustAnchorsPem: [] }, { mode: 'some' as 'any' }, { name: '' }]) {
    assert.throws(
      () => new Rfc3161Target(config('any', bad)),
      (e) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  }
  assert.throws(
    () => new Rfc3161Target(config('any'), { attempts: 0 }),
    (e) => e instanceof RemembrancerError,
  );
});
