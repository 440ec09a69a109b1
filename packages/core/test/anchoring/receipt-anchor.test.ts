import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MemoryTree,
  RECEIPT_ANCHOR_CHECKS,
  base64Encode,
  buildEpochTree,
  buildFederationReceipt,
  buildReceipt,
  canonicalBytes,
  epochStatementDigest,
  signCheckpoint,
  verifyReceipt,
  verifyReceiptAnchor,
  type Receipt,
  type ReceiptAnchorCheckName,
} from '../../src/index.js';
import {
  alpha,
  beta,
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

// An entry receipt of alpha's log, and anchors of that log at several sizes: the offline chain of
// issue 10 item 9, entry → receipt checkpoint → (consistency) → anchored checkpoint → epoch → anchor.

const ns = 'dao:vaultmesh';
const origin = `${alpha.id}/${ns}`;
const entries = Array.from({ length: 12 }, (_, i) => ({ i, text: `memory ${i}` }));
const log = new MemoryTree();
for (const e of entries) log.append(canonicalBytes(e));
const trust = trustIn([registry]);

function entryReceipt(index: number, size: number): Receipt {
  const note = signCheckpoint({ origin, size, root: log.rootAt(size) }, alpha.logSigner(ns));
  const r = buildReceipt({
    namespace: ns,
    origin,
    index,
    entry: entries[index],
    proof: log.inclusionProof(index, size),
    checkpointNote: note,
  });
  assert.ok(verifyReceipt(r, { logVkeys: [alpha.logSigner(ns).vkey] }).ok);
  return r;
}

/** The federation receipt of an epoch that anchored alpha's log at `size`, with another node's log beside it. */
function anchoredAt(size: number) {
  const leaves = [
    sealedLeaf(alpha, ns, size, { root: log.rootAt(size) }),
    sealedLeaf(beta, 'dao:treasury', 3, { cosigners: [alpha, gamma], allowlist: [alpha, gamma] }),
  ];
  const tree = buildEpochTree(leaves);
  const statement = statementFor(tree);
  const digest = epochStatementDigest(statement);
  return json(
    buildFederationReceipt({
      statement,
      signatures: signedBy(statement, [gamma, alpha, beta]),
      tree,
      origin,
      anchor: testAttestation(digest),
      evidence: testEvidence(digest),
      finalizedAt: '2025-03-01T12:00:03Z',
      registry,
    }),
  );
}

function consistency(a: number, b: number) {
  const [from, to] = a <= b ? [a, b] : [b, a];
  return { from, to, proof: log.consistencyProof(from, to).map(base64Encode) };
}

async function outcome(receipt: Receipt, anchor: unknown) {
  const v = await verifyReceiptAnchor(receipt, anchor, trust);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    RECEIPT_ANCHOR_CHECKS,
  );
  assert.equal(
    v.ok,
    v.checks.every((c) => c.ok),
  );
  return v;
}

async function failsAt(receipt: Receipt, anchor: unknown, name: ReceiptAnchorCheckName, detail?: RegExp) {
  const v = await outcome(receipt, anchor);
  const failed = v.checks.find((c) => !c.ok);
  assert.equal(failed?.name, name, JSON.stringify(v.checks));
  if (detail) assert.match(failed.detail, detail);
}

test('an anchor at a later, equal or earlier (still covering) size links to the entry receipt', async () => {
  const receipt = entryReceipt(3, 6);
  for (const [size, consistent] of [
    [9, true],
    [12, true],
    [6, false],
    [4, true],
  ] as const) {
    const anchor = {
      federation_receipt: anchoredAt(size),
      ...(consistent ? { consistency: consistency(6, size) } : {}),
    };
    const v = await outcome(receipt, json(anchor));
    assert.ok(v.ok, JSON.stringify(v.checks));
    assert.match(
      v.checks.at(-1)!.detail,
      size === 6 ? /is the receipt's checkpoint/ : /is consistent with the receipt's checkpoint of size 6/,
    );
    assert.equal(v.receipt?.leaf.size, size);
  }
  // Equal sizes may also carry the empty proof.
  assert.ok(
    (await outcome(receipt, { federation_receipt: anchoredAt(6), consistency: { from: 6, to: 6, proof: [] } })).ok,
  );
});

test('the link fails when the anchor does not cover the entry, or the proof does not hold', async () => {
  const receipt = entryReceipt(7, 9);
  // An anchor of an earlier size that does not reach entry 7.
  await failsAt(
    receipt,
    { federation_receipt: anchoredAt(6), consistency: consistency(6, 9) },
    'consistency',
    /does not hold entry 7/,
  );
  const anchor = { federation_receipt: anchoredAt(11), consistency: consistency(9, 11) };
  assert.ok((await outcome(receipt, anchor)).ok);
  await failsAt(
    receipt,
    { federation_receipt: anchor.federation_receipt },
    'consistency',
    /no consistency proof from size 9 to 11/,
  );
  await failsAt(
    receipt,
    { ...anchor, consistency: { ...anchor.consistency, from: 8 } },
    'consistency',
    /from 8 to 11, not 9 to 11/,
  );
  const proof = [...anchor.consistency.proof];
  proof[0] = base64Encode(new Uint8Array(32).fill(1));
  await failsAt(receipt, { ...anchor, consistency: { ...anchor.consistency, proof } }, 'consistency', /not consistent/);
  await failsAt(
    receipt,
    { ...anchor, consistency: { ...anchor.consistency, proof: proof.slice(1) } },
    'consistency',
    /not consistent/,
  );
  await failsAt(
    receipt,
    { ...anchor, consistency: { ...anchor.consistency, proof: ['AAAA'] } },
    'consistency',
    /\/consistency\/proof\/0/,
  );
  await failsAt(receipt, { ...anchor, extra: 1 }, 'consistency', /\/extra/);
  // A receipt of another log (same checkpoint sizes, another origin).
  await failsAt({ ...receipt, origin: `${beta.id}/${ns}` }, anchor, 'consistency', /the receipt of "beta/);
  // A receipt checkpoint whose tree is not the anchored one's: a forked log.
  const forked = new MemoryTree();
  for (const e of entries) forked.append(canonicalBytes({ ...e, forked: e.i === 2 }));
  const forkedNote = signCheckpoint({ origin, size: 9, root: forked.rootAt(9) }, alpha.logSigner(ns));
  await failsAt({ ...receipt, checkpoint: forkedNote }, anchor, 'consistency', /not consistent/);
});

test('federation receipt failures come first; the link is then not run', async () => {
  const receipt = entryReceipt(1, 4);
  for (const anchor of [null, 'x', {}, { federation_receipt: { ...anchoredAt(4), namespace: 'x:y' } }]) {
    const v = await outcome(receipt, anchor);
    assert.equal(v.checks[0]!.ok, false);
    assert.equal(v.checks.at(-1)!.detail, 'not run: an earlier check failed');
  }
  const fr = anchoredAt(4);
  await failsAt(receipt, { federation_receipt: { ...fr, quorum_met: false } }, 'quorum');
});
