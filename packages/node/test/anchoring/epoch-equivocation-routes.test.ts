import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoteSigner,
  RemembrancerError,
  base64Encode,
  crypto,
  peerAuthKeyName,
  signEpochEquivocationEvidence,
  signEpochStatement,
  utf8Encode,
  verifyEpochEquivocationWithRegistry,
  type EpochEquivocationEvidence,
  type EpochStatement,
  type RegistryPeer,
} from '@vaultmesh/core';
import type { RunningNode } from '../../src/index.js';
import { EVIDENCE_PATH, PeerRequestError, peerCredentials, peerRequest } from '../../src/federation/index.js';
import { ANCHOR_PEER_PATH } from '../../src/anchoring/anchor-peer-client.js';
import { waitFor } from '../federation/federation-fixture.js';
import { TARGET, json, startInProcessFederation, type Federation } from './in-process-federation.js';

// Three real nodes over real HTTP. Gamma turns dishonest: it hands alpha finalized epochs of one
// epoch with two different roots, each signed with its real auth key. Alpha proves it, beta gets
// the evidence pushed and serves it, and anyone verifies it offline with the registry.

let fed: Federation;
let alpha: RunningNode;
let beta: RunningNode;
let gamma: RunningNode;

before(async () => {
  fed = await startInProcessFederation('equivocation', 3, 'collaborative');
  [alpha, beta, gamma] = fed.nodes as [RunningNode, RunningNode, RunningNode];
});

after(async () => {
  await fed.close();
});

const name = (n: RunningNode) => n.identity.config.name;
const peerOf = (n: RunningNode): RegistryPeer => fed.registry.peers.find((p) => p.id === name(n))!;
const credsOf = (n: RunningNode) =>
  peerCredentials(new NoteSigner(peerAuthKeyName(name(n)), n.identity.peerSeed).keyId, n.identity.peerSeed);

function statement(epoch: number, rootText: string): EpochStatement {
  return {
    format: 'vaultmesh.epoch@1',
    federation_id: fed.registry.federation_id,
    registry_version: fed.registry.version,
    target: TARGET,
    epoch,
    mode: 'collaborative',
    node: null,
    tree_size: 1,
    root: base64Encode(crypto.sha256(utf8Encode(rootText))),
  };
}

/** A finalized epoch as gamma pushes it: its signature is real, the rest does not hold up. */
function pushedBy(signer: RunningNode, s: EpochStatement) {
  return {
    statement: s,
    leaves: [],
    signatures: [{ node: name(signer), sig: signEpochStatement(s, signer.identity.peerSeed), role: 'leader' }],
    anchor: {
      batch_root: s.root,
      target: TARGET,
      tx_hash: '00'.repeat(32),
      block: '1',
      timestamp: '2026-01-01T00:00:00Z',
    },
    evidence: { type: 'rfc3161', policy: 'any', tokens: [] },
    finalized_at: '2026-01-01T00:00:00Z',
    leader: name(signer),
    attempt: 0,
  };
}

async function push(from: RunningNode, to: RunningNode, path: string, body: unknown): Promise<number> {
  try {
    return (await peerRequest(peerOf(to), credsOf(from), 'POST', path, { body, timeoutMs: 5_000 })).status;
  } catch (e) {
    if (e instanceof PeerRequestError && e.answered && e.status !== undefined) return e.status;
    throw e;
  }
}

async function evidenceAt(node: RunningNode): Promise<EpochEquivocationEvidence[]> {
  const r = await json<{ evidence: { type: string }[] }>(`${node.url}/v1/federation/evidence`);
  assert.equal(r.status, 200);
  return r.body.evidence.filter((e) => e.type === 'federation.epoch.equivocation') as EpochEquivocationEvidence[];
}

test("a dishonest signer's second root for one epoch is evidence that another node serves and that verifies offline", async () => {
  const epoch = 7;
  const first = statement(epoch, 'the root gamma signed first');
  const second = statement(epoch, 'another root of the same epoch');
  // Neither finalized epoch holds up (no leaves, no token): alpha refuses both, but remembers
  // gamma's valid signatures on them.
  assert.ok((await push(gamma, alpha, `${ANCHOR_PEER_PATH}/finalized`, pushedBy(gamma, first))) >= 400);
  assert.deepEqual(await evidenceAt(alpha), []);
  assert.ok((await push(gamma, alpha, `${ANCHOR_PEER_PATH}/finalized`, pushedBy(gamma, second))) >= 400);

  const [atAlpha] = await evidenceAt(alpha);
  assert.ok(atAlpha, 'alpha holds the evidence');
  assert.equal(atAlpha.signer, name(gamma));
  assert.equal(atAlpha.detected_by, name(alpha));

  // Alpha pushes it; beta verified it before storing and serves it.
  const [atBeta] = await waitFor('beta serves the evidence', async () => {
    const docs = await evidenceAt(beta);
    return docs.length > 0 ? docs : undefined;
  });
  assert.deepEqual(atBeta, atAlpha);
  const verified = verifyEpochEquivocationWithRegistry(atBeta, [fed.registry]);
  assert.deepEqual(verified.statements.map((s) => s.root).sort(), [first.root, second.root].sort());

  // Counted in beta's federation status, against gamma.
  const status = await json<{
    equivocation: { epoch_evidence: number; epoch_signers: string[] };
    peers: { id: string; evidence: number }[];
  }>(`${beta.url}/v1/federation/status`);
  assert.equal(status.status, 200);
  assert.equal(status.body.equivocation.epoch_evidence, 1);
  assert.deepEqual(status.body.equivocation.epoch_signers, [name(gamma)]);
  assert.equal(status.body.peers.find((p) => p.id === name(gamma))?.evidence, 1);
});

test('tampered evidence is refused with its code, over HTTP and offline', async () => {
  const [held] = await evidenceAt(beta);
  assert.ok(held);
  // Another root slipped in (all zero bytes: it sorts first) and re-signed by the pushing node:
  // gamma never signed it.
  const forged = signEpochEquivocationEvidence(
    { ...held, statements: [{ ...held.statements[0], root: base64Encode(new Uint8Array(32)) }, held.statements[1]] },
    alpha.identity.peerSeed,
  );
  const edited = { ...held, detected_at: '2026-01-02T00:00:00Z' };
  for (const [what, doc, code] of [
    ['a root gamma did not sign', forged, 'EVIDENCE_INVALID'],
    ['edited after the detector signed', edited, 'SIGNATURE_INVALID'],
  ] as const) {
    assert.throws(
      () => verifyEpochEquivocationWithRegistry(doc, [fed.registry]),
      (e: unknown) => e instanceof RemembrancerError && e.code === code,
      what,
    );
    const r = await peerRequest(peerOf(beta), credsOf(alpha), 'POST', EVIDENCE_PATH, {
      body: doc,
      timeoutMs: 5_000,
    }).catch((e: unknown) => e);
    assert.ok(r instanceof PeerRequestError && r.status === 400, `${what}: ${String(r)}`);
    assert.equal(r.peerCode, 'EVIDENCE_INVALID', what);
  }
  assert.equal((await evidenceAt(beta)).length, 1, 'nothing tampered was stored');
});
