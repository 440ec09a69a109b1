import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignatureVerifier,
  collectCosignatures,
  formatAddCheckpointRequest,
  parseCheckpoint,
  parseNote,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
} from '@vaultmesh/core';
import { startServe, type ServeProcess } from './harness/cli-process.js';
import { appendOffline, copyNodeData } from './harness/forked-node.js';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';

// Five real node processes. alpha is made to sign a forked history: a copy of its data directory
// (same keys) grows differently from the original, and then serves in the original's place. Every
// honest node must hold verifiable evidence within 10 s of the fork becoming visible, and its
// witness must then refuse alpha's log.
const NS = 'fed:fork';
const DETECTION_BOUND_MS = 10_000;
const dirs: string[] = [];
let fed: LocalFederation | undefined;
let fork: ServeProcess | undefined;

after(async () => {
  await fork?.kill();
  await fed?.stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function headers(node: FederationNode): Record<string, string> {
  return { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' };
}

async function append(node: FederationNode, entries: number, tag: string): Promise<number> {
  const r = await fetch(`${node.url}/v1/ns/${NS}/batch`, {
    method: 'POST',
    headers: headers(node),
    body: JSON.stringify({ entries: Array.from({ length: entries }, (_, i) => ({ tag, i })) }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  const { indices } = JSON.parse(text) as { indices: number[] };
  return indices[indices.length - 1]! + 1;
}

async function checkpoint(node: FederationNode): Promise<string> {
  const r = await fetch(`${node.url}/v1/ns/${NS}/checkpoint`, { signal: AbortSignal.timeout(2000) });
  assert.equal(r.status, 200);
  return r.text();
}

function sizeOf(note: string): number {
  return parseCheckpoint(parseNote(note).text).size;
}

function honestCosigners(fed: LocalFederation, note: string): string[] {
  const verifiers = fed.registry.peers
    .filter((p) => p.id !== fed.nodes[0]!.name)
    .map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
  return collectCosignatures(note, verifiers).map((c) => c.name);
}

async function evidenceAt(node: FederationNode, origin: string): Promise<EquivocationEvidence[]> {
  const r = await fetch(`${node.url}/v1/federation/evidence?origin=${encodeURIComponent(origin)}`, {
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as { evidence: EquivocationEvidence[] }).evidence;
}

test(
  'a node made to sign a forked checkpoint is detected by every honest node within 10 s, and no longer cosigned',
  { timeout: 180_000 },
  async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'remembrancer-fork-'));
    dirs.push(root);
    fed = await startLocalFederation(root, 5);
    const [alpha, ...honest] = fed.nodes as [FederationNode, ...FederationNode[]];
    const origin = `${alpha.name}/${NS}`;
    const r = await fetch(`${alpha.url}/v1/ns/${NS}`, { method: 'PUT', headers: headers(alpha), body: '{}' });
    assert.equal(r.status, 201);

    // A common history, cosigned by every other witness.
    const common = await append(alpha, 3, 'common');
    await waitFor("alpha's first checkpoint to be cosigned by all four witnesses", async () => {
      const note = await checkpoint(alpha);
      return sizeOf(note) >= common && honestCosigners(fed!, note).length === 4 ? true : undefined;
    });

    // The copy: alpha stopped, its data directory duplicated, alpha back up.
    await fed.kill(0);
    const forkDir = join(root, 'alpha-fork');
    copyNodeData(alpha.dir, forkDir);
    await fed.restart(0);

    // The original history goes on to size 7, cosigned by everyone.
    const honestSize = await append(alpha, 4, 'original');
    assert.equal(honestSize, 7);
    const honestNote = await waitFor("alpha's size-7 checkpoint to be cosigned by all four witnesses", async () => {
      const note = await checkpoint(alpha);
      return sizeOf(note) === honestSize && honestCosigners(fed!, note).length === 4 ? note : undefined;
    });

    // The copy signs another history of the same log, to size 9, offline.
    const forkSize = await appendOffline(
      forkDir,
      NS,
      Array.from({ length: 6 }, (_, i) => ({ tag: 'forked', i })),
    );
    assert.equal(forkSize, 9);

    // The fork takes alpha's place: its gossip answers, its cosigner, its proofs.
    await fed.kill(0);
    fork = await startServe(forkDir, { listen: alpha.listen });
    const visibleAt = await waitFor("the forked checkpoint to be served at alpha's address", async () =>
      sizeOf(await checkpoint(alpha)) === forkSize ? Date.now() : undefined,
    );

    // Every honest node holds evidence within the bound, each document verifiable by anyone.
    const found = await waitFor(
      "every honest node to serve evidence against alpha's log",
      async () => {
        const all = await Promise.all(honest.map((n) => evidenceAt(n, origin)));
        return all.every((e) => e.length > 0) ? all : undefined;
      },
      DETECTION_BOUND_MS,
    );
    const detectedWithin = Date.now() - visibleAt;
    assert.ok(detectedWithin <= DETECTION_BOUND_MS, `detected after ${detectedWithin} ms`);
    t.diagnostic(
      `every honest node held evidence ${detectedWithin} ms after the fork became visible; detectors: ${[...new Set(found.flat().map((d) => d.detected_by))].join(', ')}`,
    );
    for (const docs of found) {
      for (const doc of docs) {
        const v = verifyEvidenceWithRegistry(doc, fed.registry);
        assert.equal(v.evidence.origin, origin);
        assert.equal(v.evidence.reason, 'inconsistent');
        assert.deepEqual(
          v.checkpoints.map((c) => c.size),
          [honestSize, forkSize],
        );
        assert.ok(
          fed.registry.peers.some((p) => p.id === doc.detected_by && p.id !== alpha.name),
          `detected by an honest peer, not ${doc.detected_by}`,
        );
      }
    }

    // The honest witnesses refuse alpha's log now: the fork's checkpoints get none of their
    // cosignatures, and not even the original history is cosigned again.
    const grown = await append(alpha, 2, 'forked-more');
    const forkNote = await waitFor('the fork to publish its next checkpoint', async () => {
      const note = await checkpoint(alpha);
      return sizeOf(note) === grown ? note : undefined;
    });
    await new Promise((res) => setTimeout(res, 2500)); // the cosigner retries witnesses every second
    assert.deepEqual(honestCosigners(fed, await checkpoint(alpha)), [], forkNote);
    for (const node of honest) {
      const offer = await fetch(`${node.url}/v1/witness/add-checkpoint`, {
        method: 'POST',
        body: formatAddCheckpointRequest({ oldSize: honestSize, proof: [], checkpoint: honestNote }),
        signal: AbortSignal.timeout(2000),
      });
      assert.equal(offer.status, 404, `${node.name} still witnesses alpha's log`);
      const status = (await (await fetch(`${node.url}/v1/federation/status`)).json()) as {
        equivocation: { refused_origins: string[]; evidence: number };
      };
      assert.ok(status.equivocation.refused_origins.includes(origin));
      assert.ok(status.equivocation.evidence >= 1);
      const metrics = await (await fetch(`${node.url}/metrics`)).text();
      assert.match(metrics, /^remembrancer_equivocation_evidence [1-9]/m);
      assert.match(metrics, /^remembrancer_gossip_rounds_total [1-9]/m);
    }

    // The other logs are unaffected: beta still gets cosigned by the honest witnesses.
    const beta = honest[0]!;
    assert.equal(
      (await fetch(`${beta.url}/v1/ns/${NS}`, { method: 'PUT', headers: headers(beta), body: '{}' })).status,
      201,
    );
    const bSize = await append(beta, 2, 'beta');
    await waitFor("beta's log to be cosigned by the three other honest witnesses", async () => {
      const note = await checkpoint(beta);
      const verifiers = fed!.registry.peers
        .filter((p) => p.id !== beta.name && p.id !== alpha.name)
        .map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
      return sizeOf(note) === bSize && collectCosignatures(note, verifiers).length === 3 ? true : undefined;
    });
  },
);
