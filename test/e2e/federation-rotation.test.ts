import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosignatureVerifier, collectCosignatures } from '@vaultmesh/core';
import { runCli } from './harness/cli-process.js';
import { startLocalFederation, waitFor, type LocalFederation } from './harness/local-federation.js';

// A witness key rotated through a registry update while the federation keeps working: appends never
// fail, and the rotated node's cosignatures switch to the new key without a restart.
const NS = 'rot:e2e';
const root = mkdtempSync(join(tmpdir(), 'remembrancer-rotation-'));
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

async function cli(args: string[]): Promise<string> {
  const r = await runCli(args, { timeoutMs: 60_000 });
  assert.equal(r.code, 0, `remembrancer ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

test('a witness key rotation through a registry update, with no downtime', { timeout: 120_000 }, async () => {
  fed = await startLocalFederation(root, 3);
  const [alpha, beta] = fed.nodes as [(typeof fed.nodes)[0], (typeof fed.nodes)[0]];
  const headers = { authorization: `Bearer ${alpha.token}`, 'content-type': 'application/json' };
  assert.equal((await fetch(`${alpha.url}/v1/ns/${NS}`, { method: 'PUT', headers, body: '{}' })).status, 201);

  let running = true;
  let appended = 0;
  const failures: string[] = [];
  const appender = (async () => {
    while (running) {
      const r = await fetch(`${alpha.url}/v1/ns/${NS}/batch`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ entries: [{ n: appended }, { n: appended + 1 }] }),
      });
      if (r.status === 201) appended += 2;
      else failures.push(`${r.status} ${await r.text()}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();

  const oldKey = fed.registry.peers.find((p) => p.id === beta.name)!.witness_vkey;
  const { next_vkey: newKey } = JSON.parse(
    await cli(['keys', 'rotate', '--data', beta.dir, '--key', 'witness', '--json']),
  ) as { next_vkey: string };
  assert.notEqual(newKey, oldKey);
  const v2 = join(root, 'registry-v2.json');
  await cli([
    'federation',
    'propose',
    '--from',
    join(root, 'genesis.json'),
    '--rotate-node',
    beta.dir,
    '--memo',
    'rotate beta witness key',
    '--out',
    v2,
  ]);
  await cli(['federation', 'sign', v2, '--data', alpha.dir]);
  await cli(['federation', 'sign', v2, '--data', beta.dir]);
  for (const node of fed.nodes) await cli(['federation', 'apply', v2, '--url', node.url, '--data', node.dir]);

  const node = (await (await fetch(`${beta.url}/v1/node`)).json()) as { witness_vkey: string };
  assert.equal(node.witness_vkey, newKey, 'beta now publishes its new witness key');
  const sizeAfterApply = appended;
  await waitFor('a checkpoint of alpha cosigned by beta with the new key', async () => {
    const note = await (await fetch(`${alpha.url}/v1/ns/${NS}/checkpoint`)).text();
    return Number(note.split('\n')[1]) > sizeAfterApply &&
      collectCosignatures(note, [CosignatureVerifier.fromVkey(newKey)]).length === 1
      ? note
      : undefined;
  });
  running = false;
  await appender;
  assert.deepEqual(failures, [], 'no append failed during the rotation');
  assert.ok(appended > 0);
  const status = (await (await fetch(`${alpha.url}/v1/federation/status`)).json()) as { registry_version: number };
  assert.equal(status.registry_version, 2);
});
