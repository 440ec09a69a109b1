import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyReceipt, type Receipt } from '@vaultmesh/core';
import { runCli } from './harness/cli-process.js';
import { startLocalFederation, type FederationNode, type LocalFederation } from './harness/local-federation.js';

// Issue 15 items 1 and 2 end to end, on a 3-node federation of real processes whose checkpoint
// timer is a minute (so every receipt that arrives sooner came from an adaptive checkpoint): on
// alpha, a namespace sealed by 2 of its 2 peers' witnesses. An append that waits for `sealed` gets,
// in one request, a receipt that verifies offline with the served policy; so does `record --wait
// sealed`; with a witness down, the wait times out into 202 (the CLI exits 3) and the entry is stored.
const NS = 'e2e:waiting';
const EXIT_RECEIPT_PENDING = 3;
let dir: string;
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function cli(node: FederationNode, args: string[], stdin?: string) {
  return runCli([...args, '--url', node.url, '--token', node.token], {
    timeoutMs: 60_000,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

test(
  'appends that wait for a sealed receipt get one that verifies offline; past the timeout, 202',
  { timeout: 240_000 },
  async () => {
    dir = mkdtempSync(join(tmpdir(), 'remembrancer-append-wait-'));
    fed = await startLocalFederation(dir, 3, { checkpointIntervalMs: 60_000 });
    const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];

    const created = await runCli(
      ['ns', 'create', NS, '--witnesses', `${beta.name},${gamma.name}`, '--min-witnesses', '2'].concat([
        '--url',
        alpha.url,
        '--data',
        alpha.dir,
        '--json',
      ]),
      { timeoutMs: 60_000 },
    );
    assert.equal(created.code, 0, created.stdout + created.stderr);
    const policy = await (await fetch(`${alpha.url}/v1/ns/${NS}/policy`)).text();
    const policyFile = join(dir, 'policy.txt');
    writeFileSync(policyFile, policy);

    // One request: stored, checkpointed at once, cosigned by beta and gamma, answered sealed.
    const r = await fetch(`${alpha.url}/v1/ns/${NS}/entries?wait=sealed&timeout=20`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alpha.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ memo: 'waited for' }),
    });
    const body = await r.text();
    assert.equal(r.status, 201, body);
    const receipt = JSON.parse(body) as Receipt;
    assert.equal(receipt.index, 0);
    assert.equal(receipt.sealed, true);
    assert.deepEqual([...receipt.sealing!.cosigners].sort(), [beta.name, gamma.name].sort());
    const offline = verifyReceipt(receipt, { logVkeys: [], policy });
    assert.ok(offline.ok, JSON.stringify(offline));

    // The CLI does the same, and its receipt verifies with `verify --policy`.
    const recorded = await cli(alpha, ['record', '--ns', NS, '--wait', 'sealed', '--timeout', '20'], '{"memo":"cli"}');
    assert.equal(recorded.code, 0, recorded.stdout + recorded.stderr);
    const cliReceipt = JSON.parse(recorded.stdout) as Receipt;
    assert.equal(cliReceipt.index, 1);
    assert.equal(cliReceipt.sealed, true);
    const receiptFile = join(dir, 'receipt.json');
    writeFileSync(receiptFile, recorded.stdout);
    const verified = await runCli(['verify', receiptFile, '--policy', policyFile]);
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);

    // gamma down: 2 of 2 cannot be met. The wait ends in 202; the entry is stored all the same.
    await fed.kill(2);
    const pending = await cli(
      alpha,
      ['record', '--ns', NS, '--wait', 'sealed', '--timeout', '1', '--json'],
      '{"memo":"unsealed"}',
    );
    assert.equal(pending.code, EXIT_RECEIPT_PENDING, pending.stdout + pending.stderr);
    const out = JSON.parse(pending.stdout) as { index: number; receipt_pending: string };
    assert.equal(out.index, 2);
    assert.equal(out.receipt_pending, `/v1/ns/${encodeURIComponent(NS)}/receipt/2?sealed=1`);
    const stored = await fetch(`${alpha.url}/v1/ns/${NS}/entries/2`);
    assert.equal(stored.status, 200);
    assert.deepEqual(((await stored.json()) as { entry: unknown }).entry, { memo: 'unsealed' });
    // Covered by a checkpoint (adaptive), just not a sealed one: the plain wait answers at once.
    const plain = await fetch(`${alpha.url}/v1/ns/${NS}/entries?wait=checkpoint&timeout=20`, {
      method: 'POST',
      headers: { authorization: `Bearer ${alpha.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ memo: 'checkpoint only' }),
    });
    assert.equal(plain.status, 201);
    assert.equal(((await plain.json()) as Receipt).sealed, false);
  },
);
