import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosignatureSigner, parseTlogPolicy } from '@vaultmesh/core';
import { runCli, startServe, type ServeProcess } from './harness/cli-process.js';

// A real node, a receipt fetched with `receipt`, and `verify --policy` enforcing C2SP tlog-policy
// files offline: the node's own policy (no federation here, so quorum none), stricter ones, bad ones.
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-e2e-policy-'));
const data = join(dir, 'node');
const NS = 'dao:vaultmesh';
let node: ServeProcess;

before(async () => {
  const init = await runCli(['init', '--data', data, '--name', 'alpha.vaultmesh.local', '--json']);
  assert.equal(init.code, 0, init.stderr);
  node = await startServe(data);
  const created = await cli(['ns', 'create', NS, '--json']);
  assert.equal(created.code, 0, created.stderr);
  const rec = await cli(['record', '--ns', NS, '-'], JSON.stringify({ memory: 'the council met' }));
  assert.equal(rec.code, 0, rec.stderr);
});

after(async () => {
  if (node) assert.equal(await node.stop(), 0);
  rmSync(dir, { recursive: true, force: true });
});

function cli(args: string[], stdin?: string) {
  return runCli([...args, '--url', node.url, '--data', data], stdin === undefined ? {} : { stdin });
}

test('receipt --sealed --out, checkpoint --sealed, and verify --policy with the served policy', async () => {
  const file = join(dir, 'receipt.json');
  const got = await cli(['receipt', '--ns', NS, '0', '--sealed', '--wait', '10', '--out', file, '--json']);
  assert.equal(got.code, 0, got.stderr);
  assert.deepEqual(JSON.parse(got.stdout), { namespace: NS, index: 0, file, sealed: true });
  const receipt = JSON.parse(readFileSync(file, 'utf8')) as { sealed: boolean; sealing: unknown };
  assert.equal(receipt.sealed, true);
  assert.deepEqual(receipt.sealing, { min_required: 0, allowlist: [], cosigners: [] });

  const cp = await cli(['checkpoint', '--ns', NS, '--sealed', '--json']);
  assert.equal(cp.code, 0, cp.stderr);
  assert.equal((JSON.parse(cp.stdout) as { sealed: boolean }).sealed, true);

  const policyText = await (await fetch(`${node.url}/v1/ns/${encodeURIComponent(NS)}/policy`)).text();
  const policy = parseTlogPolicy(policyText);
  assert.equal(policy.quorum, 'none');
  const policyFile = join(dir, 'policy.txt');
  writeFileSync(policyFile, policyText);
  // Offline: no --url, and no --log-vkey either: the policy's log line is the trusted key.
  const ok = await runCli(['verify', file, '--policy', policyFile]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stdout, /^ok {3}policy: witness quorum met/m);
  assert.match(ok.stdout, /receipt verified/);

  // A policy that needs a witness which never cosigned: not verified (exit 1).
  const witness = CosignatureSigner.generate('omega.vaultmesh.local/witness');
  const strict = join(dir, 'strict.txt');
  writeFileSync(strict, `log ${policy.logs[0]!.vkey}\nwitness omega ${witness.vkey}\nquorum omega\n`);
  const notMet = await runCli(['verify', file, '--policy', strict, '--json']);
  assert.equal(notMet.code, 1, notMet.stdout + notMet.stderr);
  const v = JSON.parse(notMet.stdout) as {
    ok: boolean;
    checks: Array<{ name: string; code?: string }>;
    checkpoint: { root: string };
  };
  assert.equal(v.ok, false);
  assert.deepEqual([v.checks.at(-1)!.name, v.checks.at(-1)!.code], ['policy', 'POLICY_NOT_MET']);
  assert.match(v.checkpoint.root, /^[A-Za-z0-9+/]{43}=$/);

  // A policy without log lines needs --log-vkey (usage error without it).
  const logless = join(dir, 'logless.txt');
  writeFileSync(logless, 'quorum none\n');
  assert.equal((await runCli(['verify', file, '--policy', logless])).code, 2);
  assert.equal((await runCli(['verify', file, '--policy', logless, '--log-vkey', policy.logs[0]!.vkey])).code, 0);

  // A malformed policy file is a usage error (exit 2) that names the line.
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, 'quorum none\r\n');
  const badRun = await runCli(['verify', file, '--policy', bad]);
  assert.equal(badRun.code, 2);
  assert.match(badRun.stderr, /line 1: .*U\+000D/);
});
