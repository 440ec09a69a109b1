import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CosignatureVerifier,
  NoteSigner,
  base64Decode,
  collectCosignatures,
  formatKeyId,
  parseCheckpoint,
  parseNote,
  peerAuthKeyName,
  signRequest,
  verifyConsistency,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
} from '@vaultmesh/core';
import { peerConsistencyProofPath, peerRootPath, readKeyFile } from '@vaultmesh/node';
import { startServe, type ServeProcess } from './harness/cli-process.js';
import { appendOffline, copyNodeData } from './harness/forked-node.js';
import {
  startLocalFederation,
  waitFor,
  type FederationNode,
  type LocalFederation,
} from './harness/local-federation.js';

// Three real nodes; alpha keeps private namespaces, whose public proof routes want a read token
// that no peer holds. Peers watch them for split views over the peer-authenticated hash routes:
// an honest alpha whose private log grows is never a suspect, and a copy of alpha that signs a
// forked history of a private log is caught with evidence, as for a public log.
const HONEST_NS = 'fin:ledger';
const FORK_NS = 'fin:fork';
const dirs: string[] = [];
let fed: LocalFederation | undefined;
let fork: ServeProcess | undefined;

after(async () => {
  await fork?.kill();
  await fed?.stopAll();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function admin(node: FederationNode): Record<string, string> {
  return { authorization: `Bearer ${node.token}`, 'content-type': 'application/json' };
}

async function createPrivate(node: FederationNode, ns: string): Promise<void> {
  const r = await fetch(`${node.url}/v1/ns/${ns}`, {
    method: 'PUT',
    headers: admin(node),
    body: JSON.stringify({ visibility: 'private' }),
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(r.status, 201, await r.text());
  // Private indeed: without a token, not even a proof.
  const anon = await fetch(`${node.url}/v1/ns/${ns}/proof/consistency?from=0&to=0`, {
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(anon.status, 401);
}

async function append(node: FederationNode, ns: string, entries: number, tag: string): Promise<number> {
  const r = await fetch(`${node.url}/v1/ns/${ns}/batch`, {
    method: 'POST',
    headers: admin(node),
    body: JSON.stringify({ entries: Array.from({ length: entries }, (_, i) => ({ tag, i })) }),
    signal: AbortSignal.timeout(5000),
  });
  const text = await r.text();
  assert.equal(r.status, 201, text);
  const { indices } = JSON.parse(text) as { indices: number[] };
  return indices[indices.length - 1]! + 1;
}

/** The node's latest checkpoint of a private namespace, read with its admin token. */
async function checkpoint(node: FederationNode, ns: string): Promise<string> {
  const r = await fetch(`${node.url}/v1/ns/${ns}/checkpoint`, {
    headers: { authorization: `Bearer ${node.token}` },
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(r.status, 200);
  return r.text();
}

function sizeOf(note: string): number {
  return parseCheckpoint(parseNote(note).text).size;
}

function rootOf(note: string): Uint8Array {
  return parseCheckpoint(parseNote(note).text).root;
}

/** The other nodes' witnesses that cosigned `note` of alpha's log. */
function cosigners(fed: LocalFederation, note: string): string[] {
  const verifiers = fed.registry.peers
    .filter((p) => p.id !== fed.nodes[0]!.name)
    .map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
  return collectCosignatures(note, verifiers).map((c) => c.name);
}

async function status(node: FederationNode): Promise<{
  gossip: { rounds: number };
  peers: Array<{ id: string; gossip?: { checkpoints: Array<{ origin: string; size: number }> } }>;
  equivocation: { suspects: Array<{ origin: string; reason: string }>; refused_origins: string[] };
}> {
  const r = await fetch(`${node.url}/v1/federation/status`, { signal: AbortSignal.timeout(2000) });
  assert.equal(r.status, 200);
  return (await r.json()) as never;
}

async function evidenceAt(node: FederationNode, origin: string): Promise<EquivocationEvidence[]> {
  const r = await fetch(`${node.url}/v1/federation/evidence?origin=${encodeURIComponent(origin)}`, {
    signal: AbortSignal.timeout(2000),
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as { evidence: EquivocationEvidence[] }).evidence;
}

/** Waits until `node`'s gossip saw alpha's `origin` at `size`, and then two whole rounds ran (each checks every note it saw). */
async function gossipSettled(node: FederationNode, origin: string, size: number): Promise<void> {
  const alphaName = fed!.nodes[0]!.name;
  const rounds = await waitFor(`${node.name} to see ${origin} at size ${size}`, async () => {
    const s = await status(node);
    const seen = s.peers.find((p) => p.id === alphaName)?.gossip?.checkpoints.find((c) => c.origin === origin);
    return seen && seen.size === size ? s.gossip.rounds : undefined;
  });
  await waitFor(`${node.name} to finish two more gossip rounds`, async () =>
    (await status(node)).gossip.rounds >= rounds + 2 ? true : undefined,
  );
}

/** A GET `from` signs for `to`'s registry endpoint, as a peer's monitor sends it. */
async function peerGet(from: FederationNode, to: FederationNode, path: string): Promise<{ status: number; body: any }> {
  const seed = readKeyFile(join(from.dir, 'keys', 'peer.key'), 'peer');
  const keyid = formatKeyId(new NoteSigner(peerAuthKeyName(from.name), seed).keyId);
  const headers = signRequest({
    method: 'GET',
    targetUri: new URL(path, to.url).href,
    keyid,
    seed,
    body: new Uint8Array(0),
  });
  const r = await fetch(new URL(path, to.url), { headers: { ...headers }, signal: AbortSignal.timeout(2000) });
  return { status: r.status, body: await r.json() };
}

test('split-view watch of private namespaces', { timeout: 240_000 }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'remembrancer-private-split-'));
  dirs.push(root);
  fed = await startLocalFederation(root, 3);
  const [alpha, beta, gamma] = fed.nodes as [FederationNode, FederationNode, FederationNode];
  await createPrivate(alpha, HONEST_NS);
  await createPrivate(alpha, FORK_NS);

  await t.test('an honest node whose private log grows is never a suspect', async () => {
    const origin = `${alpha.name}/${HONEST_NS}`;
    // Each step makes every peer's monitor ask alpha for a consistency proof from the size it
    // saw last to the new one (the peer view carries private namespaces' checkpoints).
    for (const [entries, size] of [
      [3, 3],
      [4, 7],
      [5, 12],
    ] as const) {
      assert.equal(await append(alpha, HONEST_NS, entries, `step-${size}`), size);
      await Promise.all([beta, gamma].map((n) => gossipSettled(n, origin, size)));
    }
    for (const node of fed!.nodes) {
      const s = await status(node);
      assert.deepEqual(s.equivocation.suspects, [], `${node.name} lists suspects`);
      assert.deepEqual(await evidenceAt(node, origin), []);
    }

    // What the monitors asked, asked by hand: hashes that verify, for registry peers only.
    const note = await checkpoint(alpha, HONEST_NS);
    assert.equal(sizeOf(note), 12);
    const at7 = await peerGet(beta, alpha, peerRootPath(HONEST_NS, 7));
    assert.equal(at7.status, 200, JSON.stringify(at7.body));
    const proof = await peerGet(gamma, alpha, peerConsistencyProofPath(HONEST_NS, 7, 12));
    assert.equal(proof.status, 200, JSON.stringify(proof.body));
    assert.deepEqual(Object.keys(proof.body).sort(), ['from', 'proof', 'to']);
    verifyConsistency(
      7,
      12,
      (proof.body.proof as string[]).map(base64Decode),
      base64Decode(at7.body.root),
      rootOf(note),
    );
    const anon = await fetch(new URL(peerConsistencyProofPath(HONEST_NS, 7, 12), alpha.url), {
      signal: AbortSignal.timeout(2000),
    });
    assert.equal(anon.status, 401);
  });

  await t.test('a forked private namespace is detected like a public one', async () => {
    const origin = `${alpha.name}/${FORK_NS}`;
    // A common history of 2, cosigned by both other witnesses.
    const common = await append(alpha, FORK_NS, 2, 'common');
    await waitFor("alpha's size-2 checkpoint to be cosigned by beta and gamma", async () => {
      const note = await checkpoint(alpha, FORK_NS);
      return sizeOf(note) === common && cosigners(fed!, note).length === 2 ? true : undefined;
    });

    // The copy: alpha stopped, its data directory duplicated, alpha back up.
    await fed!.kill(0);
    const forkDir = join(root, 'alpha-fork');
    copyNodeData(alpha.dir, forkDir);
    await fed!.restart(0);

    // The original grows to 4, cosigned by both. A power of two: the consistency proof from 4
    // does not carry the root at 4, so every detector must ask the origin's node for it too.
    assert.equal(await append(alpha, FORK_NS, 2, 'original'), 4);
    await waitFor("alpha's size-4 checkpoint to be cosigned by beta and gamma", async () => {
      const note = await checkpoint(alpha, FORK_NS);
      return sizeOf(note) === 4 && cosigners(fed!, note).length === 2 ? true : undefined;
    });

    // The copy signs another history of the same private log, to size 7, offline; then serves
    // in alpha's place (its gossip answers, its cosigner, its peer routes).
    assert.equal(
      await appendOffline(
        forkDir,
        FORK_NS,
        Array.from({ length: 5 }, (_, i) => ({ tag: 'forked', i })),
      ),
      7,
    );
    await fed!.kill(0);
    fork = await startServe(forkDir, { listen: alpha.listen });
    await waitFor("the forked checkpoint to be served at alpha's address", async () =>
      sizeOf(await checkpoint(alpha, FORK_NS)) === 7 ? true : undefined,
    );
    const forkRootAt4 = (await peerGet(beta, alpha, peerRootPath(FORK_NS, 4))).body.root as string;

    const found = await waitFor(
      "beta and gamma to hold evidence against alpha's private log",
      async () => {
        const all = await Promise.all([beta, gamma].map((n) => evidenceAt(n, origin)));
        return all.every((e) => e.length > 0) ? all : undefined;
      },
      30_000,
    );
    for (const docs of found) {
      for (const doc of docs) {
        const v = verifyEvidenceWithRegistry(doc, fed!.registry);
        assert.equal(v.evidence.origin, origin);
        assert.equal(v.evidence.reason, 'inconsistent');
        assert.deepEqual(
          v.checkpoints.map((c) => c.size),
          [4, 7],
        );
        // The root at 4 the fork's node served over the peer route is what proves the fork.
        assert.equal(v.evidence.prefix_root, forkRootAt4);
        assert.ok([beta.name, gamma.name].includes(doc.detected_by), doc.detected_by);
      }
    }
    for (const node of [beta, gamma]) {
      const s = await waitFor(`${node.name} to refuse alpha's private log`, async () => {
        const st = await status(node);
        return st.equivocation.refused_origins.includes(origin) ? st : undefined;
      });
      assert.deepEqual(
        s.equivocation.suspects.filter((x) => x.origin === origin),
        [],
        'evidence, not suspicion',
      );
      assert.deepEqual(
        s.equivocation.suspects.filter((x) => x.origin === `${alpha.name}/${HONEST_NS}`),
        [],
        'the honest private log is no suspect',
      );
    }
  });
});
