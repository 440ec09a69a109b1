import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CosignatureSigner,
  MESSAGE_PROOF_CHECKS,
  NoteSigner,
  addSignatures,
  base64Decode,
  base64Encode,
  buildMessage,
  buildMessageDelivery,
  formatCheckpoint,
  formatNote,
  leafHash,
  messageEntryBytes,
  messageId,
  parseNote,
  signCheckpoint,
  utf8Encode,
  verifyInclusion,
  verifyMessageProof,
  withProof,
  type ErrorCode,
  type MessageProofCheckName,
  type MessageProofVerification,
  type NamespaceMessage,
} from '../../src/index.js';
import { formatTlogProof } from '../../src/tlog-proof/index.js';
import {
  SENT_MS,
  beta,
  gamma,
  json,
  logSigner,
  messageInput,
  receiverOptions,
  source,
  sourceLog,
  sourceOrigin,
  target,
  witnessVerifiers,
} from './fixtures.js';

const log = sourceLog();
const EXPIRES_MS = SENT_MS + 3_600_000;

/** The travelling message with another proof text (same checkpoint unless given). */
function withProofOf(index: number, hashes: readonly Uint8Array[], checkpoint = log.checkpoint): NamespaceMessage {
  return withProof(log.message, formatTlogProof({ index, proof: hashes, checkpoint }));
}

/** Asserts the run failed exactly at `name` with `code`: the checks before passed, the ones after did not run. */
function failsAt(v: MessageProofVerification, name: MessageProofCheckName, code: ErrorCode, detail?: RegExp): void {
  assert.equal(v.ok, false);
  assert.deepEqual(
    v.checks.map((c) => c.name),
    [...MESSAGE_PROOF_CHECKS],
  );
  const at = MESSAGE_PROOF_CHECKS.indexOf(name);
  v.checks.forEach((c, i) => {
    if (i < at) assert.ok(c.ok, `${c.name} should pass: ${c.detail}`);
    if (i > at) assert.deepEqual(c, { name: c.name, ok: false, detail: 'not run: an earlier check failed' });
  });
  const failed = v.checks[at]!;
  assert.equal(failed.ok, false);
  assert.equal(failed.code, code, failed.detail);
  if (detail) assert.match(failed.detail, detail);
}

test('a real travelling message passes every check, in order, and says what the delivery record needs', () => {
  const v = verifyMessageProof(json(log.travelling), receiverOptions());
  assert.ok(v.ok, JSON.stringify(v.checks, null, 1));
  assert.deepEqual(
    v.checks.map((c) => [c.name, c.ok, c.code]),
    MESSAGE_PROOF_CHECKS.map((n) => [n, true, undefined]),
  );
  assert.deepEqual(v.message, log.travelling);
  assert.equal(v.messageId, messageId(log.message));
  assert.deepEqual(v.leafHash, leafHash(messageEntryBytes(log.message)));
  assert.equal(v.index, log.index);
  assert.equal(v.checkpoint?.origin, sourceOrigin);
  assert.equal(v.checkpoint?.size, log.size);
  assert.deepEqual(v.cosigners, [beta.name, gamma.name]);
  assert.match(v.checks[3]!.detail, /^witness quorum met: 2 of the 3 trusted witness keys cosigned/);
  assert.match(v.checks[4]!.detail, /entry 6 of alpha\.vaultmesh\.local\/dao:sender in the tree of size 11/);

  // The delivery record the target appends names exactly that entry of the source log.
  const record = buildMessageDelivery({ message: v.message!, index: v.index!, acceptedAt: new Date(SENT_MS + 5_000) });
  assert.equal(record.message_id, v.messageId);
  assert.equal(record.leaf_hash, base64Encode(v.leafHash!));
  assert.equal(record.source_origin, sourceOrigin);
  verifyInclusion(
    record.index,
    log.size,
    base64Decode(record.leaf_hash),
    log.tree.inclusionProof(record.index, log.size),
    log.tree.root(),
  );
});

test('the id names the entry: the same with or without the proof, and under a later checkpoint', () => {
  assert.equal(messageId(log.travelling), messageId(log.message));
  // A relay may carry the proof of a later checkpoint: the log grew, the entry did not move.
  const grown = sourceLog().tree;
  for (let i = 0; i < 6; i++) grown.append(utf8Encode(`{"later":${i}}`));
  const size = grown.size;
  const cp = { origin: sourceOrigin, size, root: grown.root() };
  const note = addSignatures(signCheckpoint(cp, logSigner), [
    beta.cosign(formatCheckpoint(cp), 1),
    gamma.cosign(formatCheckpoint(cp), 2),
  ]);
  const v = verifyMessageProof(withProofOf(log.index, grown.inclusionProof(log.index, size), note), receiverOptions());
  assert.ok(v.ok, JSON.stringify(v.checks));
  assert.equal(v.messageId, messageId(log.message));
  assert.equal(v.checkpoint?.size, 17);
});

test('format: a malformed message fails first, with MESSAGE_MALFORMED and its pointer', () => {
  const v = verifyMessageProof({ ...json(log.travelling), hops: 2 }, receiverOptions());
  failsAt(v, 'format', 'MESSAGE_MALFORMED', /^\/hops: unknown member/);
  assert.equal(v.message, undefined);
  failsAt(verifyMessageProof(null, receiverOptions()), 'format', 'MESSAGE_MALFORMED');
  failsAt(verifyMessageProof('{}', receiverOptions()), 'format', 'MESSAGE_MALFORMED');
});

test('proof: absent, not a tlog-proof, or the proof of another log', () => {
  failsAt(verifyMessageProof(log.message, receiverOptions()), 'proof', 'MESSAGE_MALFORMED', /no payload\.proof/);
  const garbled = withProof(log.message, 'c2sp.org/tlog-proof@v1\nindex 06\n\n' + log.checkpoint);
  failsAt(verifyMessageProof(garbled, receiverOptions()), 'proof', 'TLOG_PROOF_MALFORMED');
  const truncated = withProof(log.message, log.proofText.slice(0, -30));
  failsAt(verifyMessageProof(truncated, receiverOptions()), 'proof', 'TLOG_PROOF_MALFORMED');
  // The same entry in another namespace's log of the same node, validly signed there: the message
  // claims dao:sender, the proof is of dao:other.
  const otherOrigin = `${source.node}/dao:other`;
  const otherSigner = new NoteSigner(otherOrigin, new Uint8Array(32).fill(1));
  const other = sourceLog({ origin: otherOrigin, signer: otherSigner });
  // Even a receiver that trusts both logs' keys refuses it.
  const trustsBoth = receiverOptions({ logVerifiers: [logSigner.verifier(), otherSigner.verifier()] });
  const v = verifyMessageProof(other.travelling, trustsBoth);
  failsAt(
    v,
    'proof',
    'ORIGIN_MISMATCH',
    /"alpha\.vaultmesh\.local\/dao:other", not the source's log "alpha\.vaultmesh\.local\/dao:sender"/,
  );
});

test("log-signature: no key for the source's log, another key, a forged signature", () => {
  failsAt(
    verifyMessageProof(log.travelling, receiverOptions({ logVerifiers: [] })),
    'log-signature',
    'ORIGIN_MISMATCH',
  );
  const elsewhere = new NoteSigner(`${source.node}/dao:other`, new Uint8Array(32).fill(1)).verifier();
  failsAt(
    verifyMessageProof(log.travelling, receiverOptions({ logVerifiers: [elsewhere] })),
    'log-signature',
    'ORIGIN_MISMATCH',
  );
  // Signed by a key that is not the source's (an impostor under the right name).
  const impostor = new NoteSigner(sourceOrigin, new Uint8Array(32).fill(9));
  failsAt(
    verifyMessageProof(sourceLog({ signer: impostor }).travelling, receiverOptions()),
    'log-signature',
    'SIGNATURE_MISSING',
  );
  // The source's key ID with other signature bytes: a forgery.
  const note = parseNote(log.checkpoint);
  const forged = note.signatures.map((s, i) =>
    i === 0 ? { ...s, signature: s.signature.map((b, j) => (j === 0 ? b ^ 1 : b)) } : s,
  );
  const forgedNote = formatNote({ text: note.text, signatures: forged });
  const v = verifyMessageProof(
    withProofOf(log.index, log.tree.inclusionProof(log.index, log.size), forgedNote),
    receiverOptions(),
  );
  failsAt(v, 'log-signature', 'SIGNATURE_INVALID');
  // The options are the receiver's, but a broken one still fails a check rather than throwing.
  failsAt(
    verifyMessageProof(log.travelling, { ...receiverOptions(), logVerifiers: undefined as never }),
    'log-signature',
    'INTERNAL',
  );
});

test('witnesses: too few, a forged cosignature, one witness under two keys, a bad minimum', () => {
  const one = sourceLog({ cosigners: [beta] });
  failsAt(
    verifyMessageProof(one.travelling, receiverOptions()),
    'witnesses',
    'POLICY_NOT_MET',
    /1 of the 3 trusted witness keys cosigned \(beta\.vaultmesh\.local\/witness\), 2 required/,
  );
  assert.ok(verifyMessageProof(one.travelling, receiverOptions({ minWitnesses: 1 })).ok);
  // Cosignatures by witnesses the receiver does not trust count for nothing.
  const stranger = new CosignatureSigner('stranger.example/witness', new Uint8Array(32).fill(90));
  failsAt(
    verifyMessageProof(sourceLog({ cosigners: [beta, stranger] }).travelling, receiverOptions()),
    'witnesses',
    'POLICY_NOT_MET',
  );
  // No witnesses required: the log signature alone.
  assert.ok(
    verifyMessageProof(
      sourceLog({ cosigners: [] }).travelling,
      receiverOptions({ minWitnesses: 0, witnessVerifiers: [] }),
    ).ok,
  );

  const body = parseNote(log.checkpoint).text;
  const good = gamma.cosign(body, 5);
  const forgedGamma = { ...good, signature: good.signature.map((b, j) => (j === 20 ? b ^ 1 : b)) };
  const forged = sourceLog({ cosigners: [beta], extraSignatures: [forgedGamma] });
  failsAt(
    verifyMessageProof(forged.travelling, receiverOptions({ minWitnesses: 1 })),
    'witnesses',
    'SIGNATURE_INVALID',
    /forged or corrupted/,
  );

  // A witness given under two keys (a rotation) that cosigned with both is still one witness.
  const betaNext = new CosignatureSigner(beta.name, new Uint8Array(32).fill(77));
  const twice = sourceLog({ cosigners: [beta, betaNext] });
  const both = [...witnessVerifiers, betaNext.verifier()];
  failsAt(
    verifyMessageProof(twice.travelling, receiverOptions({ witnessVerifiers: both })),
    'witnesses',
    'POLICY_NOT_MET',
  );
  assert.deepEqual(
    verifyMessageProof(twice.travelling, receiverOptions({ witnessVerifiers: both, minWitnesses: 1 })).cosigners,
    [beta.name],
  );

  for (const minWitnesses of [-1, 1.5, Number.NaN, '2' as unknown as number]) {
    failsAt(verifyMessageProof(log.travelling, receiverOptions({ minWitnesses })), 'witnesses', 'INVALID_ARGUMENT');
  }
});

test('inclusion: a tampered message, the proof of another entry, an index beyond the tree', () => {
  // Same proof, but the message says something else: its entry is not the one in the log.
  const tampered = [
    buildMessage(messageInput({ parameters: { invoice: 'INV-8' } })),
    buildMessage(messageInput({ seq: 4 })),
    buildMessage(messageInput({ expiresAt: '2025-03-02T13:00:00Z' })),
    buildMessage(messageInput({ action: 'notify' })),
  ];
  for (const m of tampered) {
    failsAt(verifyMessageProof(withProof(m, log.proofText), receiverOptions()), 'inclusion', 'PROOF_MISMATCH');
  }
  failsAt(
    verifyMessageProof(withProofOf(5, log.tree.inclusionProof(5, log.size)), receiverOptions()),
    'inclusion',
    'PROOF_MISMATCH',
  );
  failsAt(
    verifyMessageProof(withProofOf(6, log.tree.inclusionProof(5, log.size)), receiverOptions()),
    'inclusion',
    'PROOF_MISMATCH',
  );
  failsAt(
    verifyMessageProof(withProofOf(6, log.tree.inclusionProof(6, log.size).slice(1)), receiverOptions()),
    'inclusion',
    'PROOF_MALFORMED',
  );
  failsAt(verifyMessageProof(withProofOf(11, []), receiverOptions()), 'inclusion', 'INDEX_OUT_OF_RANGE');
});

test('target: a message for another namespace or node is refused after its proof verified', () => {
  for (const other of [
    { node: target.node, namespace: 'app:other' },
    { node: 'gamma.vaultmesh.local', namespace: target.namespace },
  ]) {
    failsAt(
      verifyMessageProof(log.travelling, receiverOptions({ target: other })),
      'target',
      'MESSAGE_WRONG_TARGET',
      /is for beta\.vaultmesh\.local\/app:inbox/,
    );
  }
  failsAt(verifyMessageProof(log.travelling, receiverOptions({ target: null as never })), 'target', 'INVALID_ARGUMENT');
});

test('expiry: accepted from sent_at less the skew up to expires_at, both ends included', () => {
  const at = (now: number | Date, maxSkewSeconds?: number) =>
    verifyMessageProof(log.travelling, receiverOptions({ now, maxSkewSeconds }));
  assert.ok(at(EXPIRES_MS).ok);
  assert.ok(at(new Date(EXPIRES_MS)).ok);
  assert.ok(at(SENT_MS - 120_000).ok, 'the default skew is 120 s');
  assert.ok(at(SENT_MS - 30_000, 30).ok);
  failsAt(
    at(EXPIRES_MS + 1),
    'expiry',
    'MESSAGE_EXPIRED',
    /expired at 2025-03-01T13:00:00Z; it is 2025-03-01T13:00:00\.001Z/,
  );
  failsAt(at(SENT_MS - 120_001), 'expiry', 'MESSAGE_NOT_YET_VALID');
  failsAt(at(SENT_MS - 1, 0), 'expiry', 'MESSAGE_NOT_YET_VALID');
  failsAt(at(Number.NaN), 'expiry', 'INVALID_ARGUMENT');
  failsAt(at(9e15), 'expiry', 'INVALID_ARGUMENT');
  failsAt(at(SENT_MS, -1), 'expiry', 'INVALID_ARGUMENT');
  // Fractions of a second below the millisecond still order correctly.
  const fine = sourceLog({
    message: buildMessage(
      messageInput({ sentAt: '2025-03-01T12:00:00.0000001Z', expiresAt: '2025-03-01T12:00:01.0009Z' }),
    ),
  });
  const v = (now: number) => verifyMessageProof(fine.travelling, receiverOptions({ now, maxSkewSeconds: 0 }));
  assert.ok(v(SENT_MS + 1).ok);
  assert.ok(v(SENT_MS + 1000).ok);
  failsAt(v(SENT_MS + 1001), 'expiry', 'MESSAGE_EXPIRED');
  failsAt(v(SENT_MS), 'expiry', 'MESSAGE_NOT_YET_VALID');
});

test('an unauthenticated extra line in the proof changes nothing', () => {
  const text = formatTlogProof({
    index: log.index,
    proof: log.tree.inclusionProof(log.index, log.size),
    checkpoint: log.checkpoint,
    extraData: utf8Encode('relayed by gamma'),
  });
  assert.ok(verifyMessageProof(withProof(log.message, text), receiverOptions()).ok);
});
