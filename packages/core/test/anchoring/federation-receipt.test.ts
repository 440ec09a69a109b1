import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FEDERATION_RECEIPT_CHECKS,
  RemembrancerError,
  base64Decode,
  base64Encode,
  buildEpochTree,
  buildFederationReceipt,
  epochStatementDigest,
  formatNote,
  parseFederationReceipt,
  parseNote,
  verifyFederationReceipt,
  type FederationReceipt,
  type FederationReceiptCheckName,
  type FederationReceiptTrust,
  type RegistrySet,
  type Rfc3161Evidence,
} from '../../src/index.js';
import {
  ANCHOR_TIME,
  alpha,
  anchoredEpoch,
  beta,
  delta,
  federation,
  gamma,
  json,
  registry,
  sealedLeaf,
  signedBy,
  statementFor,
  testAttestation,
  testEvidence,
  trustIn,
} from './federation.js';

function receiptFor(origin = `${alpha.id}/dao:vaultmesh`, epoch = anchoredEpoch(), reg: RegistrySet = registry) {
  const digest = epochStatementDigest(epoch.statement);
  return buildFederationReceipt({
    statement: epoch.statement,
    signatures: epoch.signatures,
    tree: epoch.tree,
    origin,
    anchor: testAttestation(digest),
    evidence: testEvidence(digest),
    finalizedAt: '2025-03-01T12:00:03Z',
    registry: reg,
  });
}

const trust = trustIn([registry, federation('hybrid', 2)]);

async function verdict(receipt: unknown, t: FederationReceiptTrust = trust) {
  const v = await verifyFederationReceipt(receipt, t);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    FEDERATION_RECEIPT_CHECKS,
    'every check is listed, in order',
  );
  return v;
}

/** Asserts that the receipt passes every check before `name` and fails `name`; later ones do not run. */
async function failsAt(
  receipt: unknown,
  name: FederationReceiptCheckName,
  detail?: RegExp,
  t?: FederationReceiptTrust,
) {
  const v = await verdict(receipt, t);
  assert.equal(v.ok, false);
  const i = FEDERATION_RECEIPT_CHECKS.indexOf(name);
  v.checks.forEach((c, j) => {
    if (j < i) assert.ok(c.ok, `check ${c.name} should pass: ${c.detail}`);
    else if (j === i) {
      assert.ok(!c.ok, `check ${c.name} should fail`);
      if (detail) assert.match(c.detail, detail);
    } else assert.deepEqual([c.ok, c.detail], [false, 'not run: an earlier check failed']);
  });
}

test('build → JSON → parse → verify: every log of the epoch gets a receipt that verifies', async () => {
  const epoch = anchoredEpoch();
  for (const leaf of epoch.tree.leaves) {
    const receipt = receiptFor(leaf.origin, epoch);
    assert.equal(receipt.namespace, leaf.origin.slice(leaf.origin.indexOf('/') + 1));
    assert.deepEqual(receipt.leaf, leaf);
    assert.equal(receipt.quorum_met, true);
    assert.equal(receipt.anchor.batch_root, epoch.tree.rootBase64);
    assert.deepEqual(parseFederationReceipt(json(receipt)), receipt);
    const v = await verdict(json(receipt));
    assert.ok(v.ok, JSON.stringify(v.checks, null, 1));
    assert.deepEqual(v.receipt, receipt);
  }
  const receipt = receiptFor();
  assert.deepEqual(
    receipt.signatures.map((s) => [s.node, s.role]),
    [
      [alpha.id, 'leader'],
      [beta.id, 'signer'],
      [gamma.id, 'signer'],
    ],
  );
  const v = await verdict(receipt);
  assert.match(v.checks[4]!.detail, /quorum met: 3 of 3 required signatures/);
  assert.match(v.checks[2]!.detail, /cosigned by 2 of 2 required/);
  assert.match(v.checks[5]!.detail, new RegExp(ANCHOR_TIME));
});

test('signatures from all four signers, with the leader last in node order, also verify', async () => {
  const e = anchoredEpoch([gamma, delta, alpha, beta]);
  const receipt = receiptFor(`${beta.id}/dao:treasury`, e);
  assert.deepEqual(
    receipt.signatures.map((s) => s.node),
    [alpha.id, beta.id, delta.id, gamma.id],
  );
  assert.equal(receipt.signatures.find((s) => s.role === 'leader')!.node, gamma.id);
  assert.ok((await verdict(receipt)).ok);
});

test('below the quorum: quorum_met is false and verification fails at quorum', async () => {
  const receipt = receiptFor(undefined, anchoredEpoch([alpha, beta]));
  assert.equal(receipt.quorum_met, false);
  await failsAt(receipt, 'quorum', /quorum not met: 2 of 3 required/);
  // Claiming the quorum does not make it so, and hiding a met quorum is caught too.
  await failsAt({ ...receipt, quorum_met: true }, 'quorum', /quorum_met says true/);
  await failsAt({ ...receiptFor(), quorum_met: false }, 'quorum', /quorum_met says false/);
});

test('tampering fails at the named check', async () => {
  const r = json(receiptFor());
  const other = 'A'.repeat(43) + '=';
  // root
  await failsAt({ ...r, statement: { ...r.statement, root: other } }, 'epoch-inclusion', /not proven/);
  await failsAt({ ...r, anchor: { ...r.anchor, batch_root: other } }, 'epoch-inclusion', /batch_root/);
  // proof
  await failsAt({ ...r, inclusion_proof: [other, ...r.inclusion_proof.slice(1)] }, 'epoch-inclusion');
  await failsAt({ ...r, inclusion_proof: r.inclusion_proof.slice(1) }, 'epoch-inclusion');
  await failsAt({ ...r, inclusion_proof: [...r.inclusion_proof, other] }, 'epoch-inclusion');
  await failsAt({ ...r, leaf_index: (r.leaf_index + 1) % r.statement.tree_size }, 'epoch-inclusion');
  await failsAt({ ...r, statement: { ...r.statement, tree_size: 5 } }, 'epoch-inclusion');
  // signatures: corrupted, moved to another node, or over another statement
  const sigs = r.signatures;
  const flipped = base64Encode(base64Decode(sigs[1]!.sig).map((b, i) => (i === 0 ? b ^ 1 : b)));
  await failsAt({ ...r, signatures: [sigs[0], { ...sigs[1], sig: flipped }, sigs[2]] }, 'quorum', /do not count.*beta/);
  await failsAt({ ...r, signatures: [sigs[0], { ...sigs[1], node: delta.id }, sigs[2]] }, 'quorum', /delta/);
  // Even with a valid quorum left over, a bad signature in a receipt means tampering.
  const four = json(receiptFor(undefined, anchoredEpoch([alpha, beta, gamma, delta])));
  await failsAt(
    { ...four, signatures: four.signatures.map((s, i) => (i === 3 ? { ...s, sig: flipped } : s)) },
    'quorum',
  );
  await failsAt({ ...r, statement: { ...r.statement, epoch: r.statement.epoch + 1 } }, 'quorum');
  await failsAt({ ...r, statement: { ...r.statement, target: 'rfc3161:elsewhere' } }, 'quorum');
  // leaf checkpoint
  const note = parseNote(r.leaf.checkpoint);
  const uncosigned = formatNote({ text: note.text, signatures: note.signatures.slice(0, 1) });
  await failsAt({ ...r, leaf: { ...r.leaf, checkpoint: uncosigned } }, 'leaf', /cosignatures: 0 of 2 required/);
  const otherCheckpoint = sealedLeaf(alpha, 'dao:vaultmesh', 8).checkpoint;
  await failsAt({ ...r, leaf: { ...r.leaf, checkpoint: otherCheckpoint } }, 'leaf', /checkpoint/);
  // A different, validly sealed leaf of the same log is not the one in the epoch tree.
  const otherLeaf = sealedLeaf(alpha, 'dao:vaultmesh', 8);
  await failsAt({ ...r, leaf: otherLeaf }, 'epoch-inclusion');
  await failsAt(
    { ...r, leaf: { ...r.leaf, witness_policy: { ...r.leaf.witness_policy, min_required: 0 } } },
    'epoch-inclusion',
  );
  // anchor fields and evidence
  await failsAt({ ...r, anchor: { ...r.anchor, tx_hash: 'ab'.repeat(32) } }, 'anchor', /anchor\.tx_hash/);
  await failsAt({ ...r, anchor: { ...r.anchor, block: '12' } }, 'anchor', /anchor\.block/);
  await failsAt({ ...r, anchor: { ...r.anchor, timestamp: '2025-03-01T12:00:09Z' } }, 'anchor', /anchor\.timestamp/);
  await failsAt({ ...r, anchor: { ...r.anchor, target: 'rfc3161:elsewhere' } }, 'anchor', /anchor\.target/);
  const wrongToken = testEvidence(epochStatementDigest({ ...r.statement, epoch: 1 }));
  await failsAt({ ...r, evidence: wrongToken }, 'anchor', /evidence does not verify: message imprint mismatch/);
  // format
  await failsAt({ ...r, namespace: 'dao:other' }, 'format', /namespace/);
  await failsAt({ ...r, extra: 1 }, 'format', /\/extra/);
  await failsAt('not a receipt', 'format');
  await failsAt(null, 'format');
});

test('the registry check: known version, same federation, a strategy that allows the mode', async () => {
  const r = json(receiptFor());
  await failsAt({ ...r, statement: { ...r.statement, registry_version: 3 } }, 'registry', /version 3 is not known/);
  await failsAt({ ...r, federation_id: 'elsewhere' }, 'registry', /federation/);
  const liar: FederationReceiptTrust = { ...trust, registry: () => federation('hybrid', 2) };
  await failsAt(r, 'registry', /not the statement's/, liar);
  await failsAt(r, 'registry', /independently, the epoch is collaborative/, trustIn([federation('independent')]));
  assert.ok((await verdict(r, trustIn([federation('collaborative')]))).ok);
  // A version-2 statement is judged by version 2.
  const v2 = federation('hybrid', 2);
  const e = anchoredEpoch();
  const s2 = statementFor(e.tree, {}, v2);
  const r2 = receiptFor(undefined, { ...e, statement: s2, signatures: signedBy(s2, [beta, gamma, delta]) }, v2);
  assert.ok((await verdict(r2)).ok);
  await failsAt(r2, 'registry', /version 2 is not known/, trustIn([registry]));
});

test('independent epochs: signed by the anchoring node alone, over its own logs only', async () => {
  const leaves = [sealedLeaf(alpha, 'dao:vaultmesh', 7), sealedLeaf(alpha, 'acme:audit', 2)];
  const tree = buildEpochTree(leaves);
  const statement = statementFor(tree, { mode: 'independent', node: alpha.id });
  const epoch = { leaves, tree, statement, signatures: signedBy(statement, [alpha]) };
  const receipt = receiptFor(`${alpha.id}/acme:audit`, epoch);
  assert.equal(receipt.quorum_met, true);
  const v = await verdict(receipt, trustIn([federation('independent')]));
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.match(v.checks[4]!.detail, /signed by alpha\.vaultmesh\.local, anchoring alone/);
  assert.ok((await verdict(receipt)).ok, 'hybrid allows independent epochs');
  await failsAt(
    receipt,
    'registry',
    /collaboratively, the epoch is independent/,
    trustIn([federation('collaborative')]),
  );
  // Another node's signature does not count for alpha's epoch.
  await failsAt({ ...receipt, signatures: signedBy(statement, [beta]) }, 'quorum', /do not count.*beta/);
  // An independent tree that holds another node's log.
  const mixed = buildEpochTree([
    ...leaves,
    sealedLeaf(beta, 'dao:treasury', 12, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
  ]);
  const ms = statementFor(mixed, { mode: 'independent', node: alpha.id });
  const foreign = receiptFor(`${beta.id}/dao:treasury`, {
    leaves,
    tree: mixed,
    statement: ms,
    signatures: signedBy(ms, [alpha]),
  });
  await failsAt(foreign, 'leaf', /holds only its own logs/);
});

test('buildFederationReceipt refuses inputs that disagree', () => {
  const e = anchoredEpoch();
  const digest = epochStatementDigest(e.statement);
  const input = {
    statement: e.statement,
    signatures: e.signatures,
    tree: e.tree,
    origin: `${alpha.id}/dao:vaultmesh`,
    anchor: testAttestation(digest),
    evidence: testEvidence(digest),
    finalizedAt: '2025-03-01T12:00:03Z',
    registry,
  };
  const code = (c: string) => (err: unknown) => err instanceof RemembrancerError && err.code === c;
  assert.throws(
    () => buildFederationReceipt({ ...input, origin: `${delta.id}/dao:vaultmesh` }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, statement: { ...e.statement, tree_size: 9 } }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, tree: buildEpochTree(e.leaves.slice(1)) }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, signatures: [...e.signatures, e.signatures[1]!] }),
    /signed twice/,
  );
  // The anchor may carry batch_root and target, as long as they are the statement's.
  const fullAnchor = { ...input.anchor, batch_root: e.statement.root, target: e.statement.target };
  assert.equal(buildFederationReceipt({ ...input, anchor: fullAnchor }).anchor.target, e.statement.target);
  assert.throws(
    () => buildFederationReceipt({ ...input, anchor: { ...fullAnchor, target: 'rfc3161:x' } }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, anchor: { ...fullAnchor, batch_root: 'A'.repeat(43) + '=' } }),
    code('INVALID_ARGUMENT'),
  );
  const forged = { ...e.signatures[2]!, node: delta.id };
  assert.throws(
    () => buildFederationReceipt({ ...input, signatures: [...e.signatures.slice(0, 2), forged] }),
    /do not count/,
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, registry: federation('hybrid', 2) }),
    code('INVALID_ARGUMENT'),
  );
  assert.throws(
    () =>
      buildFederationReceipt({ ...input, signatures: e.signatures.map((s) => ({ ...s, role: 'signer' as const })) }),
    code('FEDERATION_RECEIPT_MALFORMED'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, finalizedAt: 'yesterday' }),
    code('FEDERATION_RECEIPT_MALFORMED'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, evidence: { ...(input.evidence as Rfc3161Evidence), tokens: [] } }),
    code('FEDERATION_RECEIPT_MALFORMED'),
  );
  assert.throws(
    () => buildFederationReceipt({ ...input, statement: { ...e.statement, mode: 'independent' } }),
    code('EPOCH_STATEMENT_INVALID'),
  );
});

test('verification never throws, whatever the trust callbacks do', async () => {
  const r = receiptFor();
  const throwing: FederationReceiptTrust = {
    registry: () => {
      throw new Error('registry store down');
    },
    verifyEvidence: trust.verifyEvidence,
  };
  await failsAt(r, 'registry', /registry store down/, throwing);
  const garbage: FederationReceiptTrust = {
    registry: trust.registry,
    verifyEvidence: async () => null as never,
  };
  await failsAt(r, 'anchor', /anchor\.tx_hash/, garbage);
  const rejecting: FederationReceiptTrust = {
    registry: trust.registry,
    verifyEvidence: () => Promise.reject(new RemembrancerError('INTERNAL', 'TSA certificate expired')),
  };
  await failsAt(r, 'anchor', /TSA certificate expired/, rejecting);
  // The evidence verifier is handed the statement digest and the parsed receipt.
  let seen: [Uint8Array, FederationReceipt] | undefined;
  await verifyFederationReceipt(json(r), {
    registry: trust.registry,
    verifyEvidence: async (ev, digest, receipt) => {
      seen = [digest, receipt];
      return trust.verifyEvidence(ev, digest, receipt);
    },
  });
  assert.deepEqual(seen?.[0], epochStatementDigest(r.statement));
  assert.deepEqual(seen?.[1], r);
});
