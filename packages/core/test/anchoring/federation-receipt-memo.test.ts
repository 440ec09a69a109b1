import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  base64Decode,
  base64Encode,
  buildFederationReceipt,
  epochStatementDigest,
  formatNote,
  parseNote,
  verifyFederationReceipt,
  type FederationReceiptCheckName,
  type FederationReceiptTrust,
  type RegistrySet,
} from '../../src/index.js';
import { alpha, anchoredEpoch, gamma, json, registry, testAttestation, testEvidence, trustIn } from './federation.js';

// verifyFederationReceipt remembers the leaf and quorum checks that passed (by registry object and
// exact JSON). Each case first lets a good receipt pass, then shows that what must fail still fails.

const epoch = anchoredEpoch();
const digest = epochStatementDigest(epoch.statement);
const good = json(
  buildFederationReceipt({
    statement: epoch.statement,
    signatures: epoch.signatures,
    tree: epoch.tree,
    origin: `${alpha.id}/dao:vaultmesh`,
    anchor: testAttestation(digest),
    evidence: testEvidence(digest),
    finalizedAt: '2025-03-01T12:00:03Z',
    registry,
  }),
);

async function failsAt(receipt: unknown, name: FederationReceiptCheckName, trust: FederationReceiptTrust) {
  const v = await verifyFederationReceipt(receipt, trust);
  assert.equal(v.ok, false);
  const failed = v.checks.find((c) => !c.ok);
  assert.equal(failed?.name, name, JSON.stringify(v.checks));
}

test('after a pass, a receipt with a forged, moved or missing signature still fails the quorum check', async () => {
  const trust = trustIn([registry]);
  for (let i = 0; i < 3; i++) assert.ok((await verifyFederationReceipt(good, trust)).ok);
  const sigs = good.signatures;
  const forged = base64Encode(base64Decode(sigs[1]!.sig).map((b, i) => (i === 0 ? b ^ 1 : b)));
  await failsAt({ ...good, signatures: [sigs[0], { ...sigs[1], sig: forged }, sigs[2]] }, 'quorum', trust);
  await failsAt({ ...good, signatures: [sigs[0], { ...sigs[1], node: sigs[2]!.node }, sigs[2]] }, 'quorum', trust);
  await failsAt({ ...good, signatures: sigs.slice(0, 1), quorum_met: true }, 'quorum', trust);
  assert.ok((await verifyFederationReceipt(good, trust)).ok);
});

test('after a pass, a receipt whose leaf lost its cosignatures still fails the leaf check', async () => {
  const trust = trustIn([registry]);
  assert.ok((await verifyFederationReceipt(good, trust)).ok);
  const note = parseNote(good.leaf.checkpoint);
  const uncosigned = formatNote({ text: note.text, signatures: note.signatures.slice(0, 1) });
  await failsAt({ ...good, leaf: { ...good.leaf, checkpoint: uncosigned } }, 'leaf', trust);
});

test('after a pass under one registry, the same receipt under another registry is checked again', async () => {
  assert.ok((await verifyFederationReceipt(good, trustIn([registry]))).ok);
  // The same version with gamma suspended: its cosignature of the leaf (and its signature of the
  // root) no longer count, so the leaf check, the first to meet gamma, fails.
  const suspended: RegistrySet = {
    ...registry,
    peers: registry.peers.map((p) => (p.id === gamma.id ? { ...p, status: 'suspended' as const } : p)),
  };
  await failsAt(good, 'leaf', trustIn([suspended]));
  assert.ok((await verifyFederationReceipt(good, trustIn([registry]))).ok);
});
