import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoteSigner, crypto, formatKeyId, peerAuthKeyName, signRequest } from '@vaultmesh/core';
import { readKeyFile } from '@vaultmesh/node';
import { runCli } from './harness/cli-process.js';
import { startLocalFederation, type FederationNode, type LocalFederation } from './harness/local-federation.js';

// Peer requests between real node processes: signed requests pass; forged signatures, replayed
// nonces, clocks skewed by ±10 minutes and suspended peers are refused.
const root = mkdtempSync(join(tmpdir(), 'remembrancer-peer-auth-'));
let fed: LocalFederation | undefined;
after(async () => {
  await fed?.stopAll();
  rmSync(root, { recursive: true, force: true });
});

function signedBy(node: FederationNode, target: FederationNode, opts: { created?: number; seed?: Uint8Array } = {}) {
  const seed = readKeyFile(join(node.dir, 'keys', 'peer.key'), 'peer');
  const keyid = formatKeyId(new NoteSigner(peerAuthKeyName(node.name), seed).keyId);
  // Spread into a plain object: fetch and view() take a string record.
  const headers: Record<string, string> = {
    ...signRequest({
      method: 'GET',
      targetUri: new URL('/v1/federation/peer/view', target.url).href,
      keyid,
      seed: opts.seed ?? seed,
      body: new Uint8Array(0),
      ...(opts.created === undefined ? {} : { created: opts.created }),
    }),
  };
  return headers;
}

async function view(target: FederationNode, headers: Record<string, string>) {
  const r = await fetch(`${target.url}/v1/federation/peer/view`, { headers });
  return { status: r.status, body: (await r.json()) as { code?: string; message?: string } };
}

test('peer authentication between real nodes', { timeout: 120_000 }, async () => {
  fed = await startLocalFederation(root, 3);
  const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];

  const ok = signedBy(beta, alpha);
  assert.equal((await view(alpha, ok)).status, 200);

  const replay = await view(alpha, ok);
  assert.equal(replay.status, 409);
  assert.equal(replay.body.code, 'NONCE_REPLAYED');

  const forged = await view(alpha, signedBy(beta, alpha, { seed: crypto.randomBytes(32) }));
  assert.equal(forged.status, 401);
  assert.equal(forged.body.code, 'SIGNATURE_INVALID');

  const unsigned = await view(alpha, {});
  assert.equal(unsigned.status, 401);

  for (const skew of [-600, 600]) {
    const signedAt = Date.now();
    const r = await view(alpha, signedBy(beta, alpha, { created: Math.floor(signedAt / 1000) + skew }));
    const elapsed = Math.ceil((Date.now() - signedAt) / 1000);
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'SIGNATURE_EXPIRED');
    // The message states the offset as the verifier saw it: seconds tick between signing here and
    // checking there (several on a loaded machine), so it lies within that many seconds of 600.
    const offset = Number(/is (\d+) s off/.exec(r.body.message ?? '')?.[1]);
    assert.ok(Math.abs(offset - 600) <= elapsed + 1, `${r.body.message ?? ''} (${elapsed} s elapsed)`);
  }

  // Suspend gamma through a registry update signed by the threshold (2 of 3).
  const v2 = join(root, 'registry-v2.json');
  const cli = async (args: string[]) =>
    assert.equal((await runCli(args, { timeoutMs: 60_000 })).code, 0, args.join(' '));
  await cli([
    'federation',
    'propose',
    '--from',
    join(root, 'genesis.json'),
    '--suspend',
    gamma.name,
    '--out',
    v2,
    '--sign-with',
    alpha.dir,
    '--sign-with',
    beta.dir,
  ]);
  for (const n of fed.nodes) await cli(['federation', 'apply', v2, '--url', n.url, '--data', n.dir]);
  const suspended = await view(alpha, signedBy(gamma, alpha));
  assert.equal(suspended.status, 403);
  assert.equal(suspended.body.code, 'FORBIDDEN');
  assert.equal((await view(alpha, signedBy(beta, alpha))).status, 200, 'active peers still pass');
});
