import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CosignatureVerifier, collectCosignatures, verifyReceipt, type RegistrySet } from '@vaultmesh/core';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';

// Real node processes on loopback cosign each other's checkpoints (C2SP tlog-witness), keep
// working through a crash, and through a partition made by SIGSTOP.
const NS = 'fed:e2e';
const dirs: string[] = [];
const feds: LocalFederation[] = [];
after(async () => {
  await Promise.all(feds.map((f) => f.stopAll()));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function launch(n: number): Promise<LocalFederation> {
  const dir = mkdtempSync(join(tmpdir(), `remembrancer-fed${n}-`));
  dirs.push(dir);
  const fed = await startLocalFederation(dir, n);
  feds.push(fed);
  for (const node of fed.nodes) {
    const r = await fetch(`${node.url}/v1/ns/${NS}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(r.status, 201);
  }
  return fed;
}

async function append(node: FederationNode, count: number): Promise<number> {
  const r = await fetch(`${node.url}/v1/ns/${NS}/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      entries: Array.from({ length: count }, (_, i) => ({ from: node.name, i, at: Date.now() })),
    }),
  });
  assert.equal(r.status, 201);
  const { indices } = (await r.json()) as { indices: number[] };
  return indices[indices.length - 1]! + 1;
}

function witnessVerifiers(registry: RegistrySet, except: string) {
  return registry.peers.filter((p) => p.id !== except).map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
}

/** The node's checkpoint once it has at least `size` entries and `cosigners` valid cosignatures. */
async function cosignedCheckpoint(
  fed: LocalFederation,
  node: FederationNode,
  size: number,
  cosigners: number,
  timeoutMs = 15_000,
) {
  return waitFor(
    `${node.name}'s checkpoint of size ≥ ${size} with ${cosigners} cosignatures`,
    async () => {
      const res = await fetch(`${node.url}/v1/ns/${NS}/checkpoint`);
      const note = await res.text();
      const cpSize = Number(note.split('\n')[1]);
      const valid = collectCosignatures(note, witnessVerifiers(fed.registry, node.name));
      return cpSize >= size && valid.length >= cosigners
        ? { note, valid, witnessed: res.headers.get('x-witnessed') }
        : undefined;
    },
    timeoutMs,
  );
}

describe('3 nodes', () => {
  test('every node reaches quorum cosigning; receipts carry verifiable cosignatures', { timeout: 90_000 }, async () => {
    const fed = await launch(3);
    for (const node of fed.nodes) {
      const size = await append(node, 5);
      const cp = await cosignedCheckpoint(fed, node, size, 2);
      assert.equal(cp.witnessed, 'true');
      const ns = (await (await fetch(`${node.url}/v1/ns/${NS}`)).json()) as { log_vkey: string };
      const receipt = await (await fetch(`${node.url}/v1/ns/${NS}/receipt/${size - 1}`)).json();
      const peerKeys = fed.registry.peers.filter((p) => p.id !== node.name).map((p) => p.witness_vkey);
      const v = verifyReceipt(receipt, { logVkeys: [ns.log_vkey], witnessVkeys: peerKeys, witnessQuorum: 2 });
      assert.ok(v.ok, JSON.stringify(v.checks));
    }
    const status = (await (await fetch(`${fed.nodes[0]!.url}/v1/federation/status`)).json()) as {
      peers: Array<{ self: boolean; reachable?: boolean }>;
      cosigning: { namespaces: Array<{ witnessed: boolean }> };
    };
    assert.ok(status.peers.filter((p) => !p.self).every((p) => p.reachable === true));
    assert.ok(status.cosigning.namespaces.every((n) => n.witnessed));
    const metrics = await (await fetch(`${fed.nodes[0]!.url}/metrics`)).text();
    assert.match(metrics, /remembrancer_cosign_round_seconds_count [1-9]/);
    assert.match(metrics, /remembrancer_witness_requests_total\{peer="beta\.e2e\.local",result="cosigned"\} [1-9]/);
    assert.match(metrics, /remembrancer_checkpoint_cosigners\{namespace="fed:e2e"\} 2/);
    const gossiped = await waitFor('gossip figures in /metrics', async () => {
      const text = await (await fetch(`${fed.nodes[0]!.url}/metrics`)).text();
      return /remembrancer_peer_checkpoint_size\{origin="beta\.e2e\.local\/fed:e2e"\} [1-9]/.test(text)
        ? text
        : undefined;
    });
    assert.match(gossiped, /remembrancer_peer_witness_lag\{origin="beta\.e2e\.local\/fed:e2e"\}/);
  });

  test('a killed and restarted node catches up with no operator action', { timeout: 90_000 }, async () => {
    const fed = feds[0]!;
    const [alpha, , gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
    await fed.kill(2);
    const size = await append(alpha, 20);
    const during = await cosignedCheckpoint(fed, alpha, size, 1);
    assert.equal(
      during.valid.some((c) => c.name.startsWith('gamma')),
      false,
      'gamma is down and cannot cosign',
    );
    await fed.restart(2);
    const healed = await cosignedCheckpoint(fed, alpha, size, 2);
    assert.ok(
      healed.valid.some((c) => c.name === 'gamma.e2e.local/witness'),
      "gamma cosigned alpha's latest checkpoint after restarting",
    );
    // gamma's own log survived and gets cosigned again as it grows.
    const gSize = await append(gamma, 3);
    await cosignedCheckpoint(fed, gamma, gSize, 2);
  });
});

describe('5 nodes', () => {
  test(
    'quorum cosigning; in a partition the majority seals, the minority publishes unwitnessed checkpoints until it heals',
    { timeout: 120_000 },
    async () => {
      const fed = await launch(5);
      assert.equal(fed.registry.quorum.witness, 2);
      for (const node of fed.nodes) await cosignedCheckpoint(fed, node, await append(node, 3), 4);

      // Minority {delta, epsilon} cut off: the majority keeps sealing.
      fed.pause(3);
      fed.pause(4);
      const alpha = fed.nodes[0]!;
      const aSize = await append(alpha, 10);
      const sealed = await cosignedCheckpoint(fed, alpha, aSize, 2);
      assert.equal(sealed.witnessed, 'true');
      fed.resume(3);
      fed.resume(4);

      // Majority {alpha, beta, gamma} cut off: the minority still takes writes, but cannot seal.
      for (const i of [0, 1, 2]) fed.pause(i);
      const delta = fed.nodes[3]!;
      const dSize = await append(delta, 10);
      const unsealed = await waitFor('delta to publish its new checkpoint', async () => {
        const res = await fetch(`${delta.url}/v1/ns/${NS}/checkpoint`);
        const note = await res.text();
        return Number(note.split('\n')[1]) >= dSize
          ? { note, witnessed: res.headers.get('x-witnessed'), count: res.headers.get('x-witness-cosignatures') }
          : undefined;
      });
      await new Promise((r) => setTimeout(r, 1500));
      const still = await fetch(`${delta.url}/v1/ns/${NS}/checkpoint`);
      assert.equal(
        still.headers.get('x-witnessed'),
        'false',
        `minority checkpoint must not be sealed (${unsealed.count})`,
      );
      assert.ok(collectCosignatures(await still.text(), witnessVerifiers(fed.registry, delta.name)).length < 2);

      // Heal: the witnesses catch up by consistency proofs and the minority's checkpoint is sealed.
      for (const i of [0, 1, 2]) fed.resume(i);
      const healed = await cosignedCheckpoint(fed, delta, dSize, 4, 20_000);
      assert.equal(healed.witnessed, 'true');
    },
  );
});
