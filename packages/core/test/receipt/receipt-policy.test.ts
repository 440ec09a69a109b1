import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  addSignatures,
  buildReceipt,
  canonicalBytes,
  formatCheckpoint,
  parseReceipt,
  parseTlogPolicy,
  signCheckpoint,
  verifyReceipt,
  verifyReceiptWith,
  type NoteSignature,
  type ReceiptTrust,
} from '../../src/index.js';

const namespace = 'dao:vaultmesh';
const origin = `alpha.vaultmesh.local/${namespace}`;
const log = new NoteSigner(origin, new Uint8Array(32).fill(1));
const otherLog = new NoteSigner(origin, new Uint8Array(32).fill(11));
const [w1, w2, w3, w4] = ['beta', 'gamma', 'delta', 'epsilon'].map(
  (n, i) => new CosignatureSigner(`${n}.vaultmesh.local/witness`, new Uint8Array(32).fill(20 + i)),
) as [CosignatureSigner, CosignatureSigner, CosignatureSigner, CosignatureSigner];

const entries = Array.from({ length: 9 }, (_, i) => ({ kind: 'memo', n: i }));
const tree = new MemoryTree();
for (const e of entries) tree.append(canonicalBytes(e));
const cpData = { origin, size: tree.size, root: tree.root() };
const body = formatCheckpoint(cpData);

/** A JSON receipt of entry 4 whose checkpoint carries these cosignature lines. */
function receiptWith(cosignatures: NoteSignature[]): Record<string, unknown> {
  const note =
    cosignatures.length === 0 ? signCheckpoint(cpData, log) : addSignatures(signCheckpoint(cpData, log), cosignatures);
  const r = buildReceipt({
    namespace,
    origin,
    index: 4,
    entry: entries[4],
    proof: tree.inclusionProof(4, tree.size),
    checkpointNote: note,
  });
  return JSON.parse(JSON.stringify(r)) as Record<string, unknown>;
}

/** Three allowlisted witnesses, two required; the log listed. */
const POLICY = `# dao:vaultmesh needs 2 of 3
log ${log.vkey}
witness beta ${w1.vkey}
witness gamma ${w2.vkey}
witness delta ${w3.vkey}
group ns 2 beta gamma delta
quorum ns
`;

function verdict(receipt: unknown, trust: Partial<ReceiptTrust> = {}) {
  return verifyReceipt(receipt, { logVkeys: [], policy: POLICY, ...trust });
}

test('quorum met: a policy check after tlog_proof names the cosigners', () => {
  const v = verdict(receiptWith([w1.cosign(body, 1700000000), w3.cosign(body, 1700000001)]));
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.deepEqual(
    v.checks.map((c) => c.name),
    ['shape', 'leaf_hash', 'checkpoint', 'inclusion', 'tlog_proof', 'policy'],
  );
  assert.match(v.checks[2]!.message!, /policy's log key/);
  const p = v.checks[5]!;
  assert.match(
    p.message!,
    /^witness quorum met: 2 of 3 policy witnesses cosigned \(beta, delta\); the quorum needs ns = 2 of \(beta, gamma, delta\)$/,
  );
  assert.deepEqual(v.policy, { met: true, cosigners: ['beta', 'delta'], witnessed: ['beta', 'delta', 'ns'] });
  // All three is fine too; extra witnesses never hurt.
  assert.ok(verdict(receiptWith([w1.cosign(body, 1), w2.cosign(body, 2), w3.cosign(body, 3), w4.cosign(body, 4)])).ok);
});

function policyFailure(receipt: unknown, trust: Partial<ReceiptTrust> = {}) {
  const v = verdict(receipt, trust);
  assert.equal(v.ok, false);
  const last = v.checks.at(-1)!;
  assert.equal(last.name, 'policy');
  assert.ok(v.checks.slice(0, -1).every((c) => c.ok));
  return { v, last };
}

test('quorum not met: POLICY_NOT_MET says who cosigned and what was needed', () => {
  const { v, last } = policyFailure(receiptWith([w2.cosign(body, 5)]));
  assert.equal(last.code, 'POLICY_NOT_MET');
  assert.equal(
    last.message,
    'witness quorum not met: 1 of 3 policy witnesses cosigned (gamma); the quorum needs ns = 2 of (beta, gamma, delta)',
  );
  assert.deepEqual(v.policy, { met: false, cosigners: ['gamma'], witnessed: ['gamma'] });
  const none = policyFailure(receiptWith([]));
  assert.match(none.last.message!, /0 of 3 policy witnesses cosigned \(none\)/);
});

test('a duplicate cosignature line counts once', () => {
  const { last, v } = policyFailure(receiptWith([w1.cosign(body, 10), w1.cosign(body, 11)]));
  assert.equal(last.code, 'POLICY_NOT_MET');
  assert.deepEqual(v.policy?.cosigners, ['beta']);
});

test('a cosignature by a witness outside the policy counts for nothing', () => {
  const { last, v } = policyFailure(receiptWith([w1.cosign(body, 10), w4.cosign(body, 11)]));
  assert.equal(last.code, 'POLICY_NOT_MET');
  assert.deepEqual(v.policy?.cosigners, ['beta']);
  // Same key name as a policy witness but another key: unknown, ignored (https://c2sp.org/signed-note#signatures).
  const impostor = new CosignatureSigner(w2.name, new Uint8Array(32).fill(99));
  assert.deepEqual(policyFailure(receiptWith([w1.cosign(body, 10), impostor.cosign(body, 11)])).v.policy?.cosigners, [
    'beta',
  ]);
});

test('a forged cosignature by a policy witness fails the check, even when the quorum is otherwise met', () => {
  const forged = {
    ...w2.cosign(body, 12),
    signature: w2.cosign(body, 12).signature.map((b, i) => (i === 20 ? b ^ 1 : b)),
  };
  const { last, v } = policyFailure(receiptWith([w1.cosign(body, 10), w3.cosign(body, 11), forged]));
  assert.equal(last.code, 'SIGNATURE_INVALID');
  assert.match(last.message!, /policy witness's cosignature is forged or corrupted.*gamma/);
  assert.equal(v.policy, undefined);
  // A cosignature of another checkpoint is a forgery on this one, too.
  const otherBody = formatCheckpoint({ ...cpData, size: cpData.size - 1, root: tree.rootAt(cpData.size - 1) });
  assert.equal(
    policyFailure(receiptWith([w1.cosign(body, 10), w3.cosign(otherBody, 11)])).last.code,
    'SIGNATURE_INVALID',
  );
  // A payload of the wrong length from a policy witness's key.
  assert.equal(
    policyFailure(receiptWith([w1.cosign(body, 10), { ...w3.cosign(body, 11), signature: new Uint8Array(64) }])).last
      .code,
    'COSIGNATURE_MALFORMED',
  );
});

test("the policy's logs decide which log keys count; without log lines the caller's keys do", () => {
  const r = receiptWith([w1.cosign(body, 1), w2.cosign(body, 2)]);
  // The policy lists `log`; a trusted key passed beside it is not enough for another log's checkpoint.
  const otherPolicy = POLICY.replace(log.vkey, otherLog.vkey);
  let v = verdict(r, { policy: otherPolicy, logVkeys: [log.vkey] });
  assert.equal(v.ok, false);
  assert.deepEqual([v.checks.at(-1)!.name, v.checks.at(-1)!.code], ['checkpoint', 'SIGNATURE_MISSING']);
  // No log lines: the given keys decide.
  const logless = POLICY.replace(/^log .*\n/m, '');
  v = verdict(r, { policy: logless, logVkeys: [log.vkey] });
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.match(v.checks[2]!.message!, /the trusted log key/);
  v = verdict(r, { policy: logless, logVkeys: [] });
  assert.deepEqual([v.checks.at(-1)!.name, v.checks.at(-1)!.code], ['checkpoint', 'ORIGIN_MISMATCH']);
  // A log line for another origin is the same as no trusted key for this one.
  const stranger = new NoteSigner('beta.vaultmesh.local/dao:vaultmesh', new Uint8Array(32).fill(12));
  v = verdict(r, { policy: POLICY.replace(log.vkey, stranger.vkey) });
  assert.deepEqual([v.checks.at(-1)!.name, v.checks.at(-1)!.code], ['checkpoint', 'ORIGIN_MISMATCH']);
});

test('quorum none: the log signature alone; parsed policies and witness checks combine', () => {
  const r = receiptWith([]);
  const v = verdict(r, { policy: `log ${log.vkey}\nquorum none\n` });
  assert.ok(v.ok);
  assert.match(v.checks.at(-1)!.message!, /quorum needs none/);
  const both = verifyReceipt(receiptWith([w1.cosign(body, 1), w2.cosign(body, 2)]), {
    logVkeys: [log.vkey],
    witnessVkeys: [w1.vkey],
    policy: parseTlogPolicy(POLICY),
  });
  assert.ok(both.ok);
  assert.deepEqual(
    both.checks.map((c) => c.name),
    ['shape', 'leaf_hash', 'checkpoint', 'inclusion', 'tlog_proof', 'policy', 'witnesses'],
  );
  assert.deepEqual(both.cosigners, [w1.name]);
  // A failed policy check ends the run before the witness check.
  const failed = verifyReceipt(receiptWith([w1.cosign(body, 1)]), {
    logVkeys: [log.vkey],
    witnessVkeys: [w1.vkey],
    policy: POLICY,
  });
  assert.deepEqual(
    failed.checks.map((c) => c.name),
    ['shape', 'leaf_hash', 'checkpoint', 'inclusion', 'tlog_proof', 'policy'],
  );
});

test('an invalid policy is a configuration error; a parsed one can be reused for many receipts', () => {
  assert.throws(() => verdict(receiptWith([]), { policy: 'quorum nobody\n' }), { code: 'POLICY_INVALID' });
  const policy = parseTlogPolicy(POLICY);
  const r = receiptWith([w2.cosign(body, 1), w3.cosign(body, 2)]);
  for (let i = 0; i < 50; i++) assert.ok(verifyReceiptWith(r, { logVerifiers: [], policy }).ok);
  // verifyReceiptWith never throws, whatever the receipt.
  for (const junk of [null, {}, { ...r, checkpoint: 'x' }, { ...r, index: 5 }])
    assert.equal(verifyReceiptWith(junk, { logVerifiers: [], policy }).ok, false);
});

test('sealed and sealing: optional, shape-checked, kept', () => {
  const r = receiptWith([]);
  const sealing = {
    min_required: 2,
    allowlist: ['beta.vaultmesh.local', 'gamma.vaultmesh.local'],
    cosigners: ['beta.vaultmesh.local'],
  };
  assert.deepEqual(parseReceipt({ ...r, sealed: false, sealing }), { ...r, sealed: false, sealing });
  assert.ok(verdict({ ...r, sealed: true, sealing }, { policy: `log ${log.vkey}\nquorum none\n` }).ok);
  const bad: Array<[string, Record<string, unknown>]> = [
    ['sealed', { sealed: 'yes' }],
    ['sealing', { sealing: [] }],
    ['sealing.min_required', { sealing: { ...sealing, min_required: -1 } }],
    ['sealing.min_required', { sealing: { ...sealing, min_required: 1.5 } }],
    ['sealing.allowlist', { sealing: { ...sealing, allowlist: 'beta' } }],
    ['sealing.allowlist', { sealing: { ...sealing, allowlist: [''] } }],
    ['sealing.cosigners', { sealing: { ...sealing, cosigners: [1] } }],
    ['sealing.cosigners', { sealing: { min_required: 0, allowlist: [] } }],
  ];
  for (const [field, extra] of bad) {
    assert.throws(
      () => parseReceipt({ ...r, ...extra }),
      (e: { code?: string; message?: string }) => e.code === 'RECEIPT_MALFORMED' && e.message!.includes(`"${field}"`),
      field,
    );
  }
});
