import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  CosignatureSigner,
  MemoryTree,
  NoteSigner,
  RemembrancerError,
  addSignatures,
  base64Decode,
  base64Encode,
  buildEquivocationEvidence,
  canonicalBytes,
  createGenesis,
  crypto,
  formatCheckpoint,
  logVerifierForOrigin,
  parseEquivocationEvidence,
  prefixRootFromConsistencyProof,
  signCheckpoint,
  signEvidence,
  verifyEvidence,
  verifyEvidenceWithRegistry,
  type EquivocationEvidence,
  type UnsignedEquivocationEvidence,
} from '../../src/index.js';
import { EVIDENCE_TYPE, evidenceSigningBytes } from '../../src/federation/index.js';
import { alpha, beta, gamma } from './peers.js';

const ns = 'dao:vaultmesh';
const origin = `${alpha.id}/${ns}`;
const log = alpha.logSigner(ns);
const logVkey = log.vkey;
const detectedAt = '2025-03-01T12:00:00Z';

/** Leaves 0..n-1; `fork` changes leaf `fork` and everything after keeps the honest data. */
function tree(n: number, fork = -1): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < n; i++) t.append(canonicalBytes({ i, v: i === fork ? 'rewritten' : 'honest' }));
  return t;
}

function note(t: MemoryTree, size = t.size, signer: NoteSigner = log): string {
  return signCheckpoint({ origin: signer.name, size, root: t.rootAt(size) }, signer);
}

const registry = createGenesis({
  federation_id: 'vaultmesh-test',
  peers: [alpha.peer, beta.peer, gamma.peer],
  quorum: { witness: 2, registry: 2 },
  anchor_strategy: 'collaborative',
  effective_after: '2025-01-01T00:00:00Z',
});

const trust = { logVerifier: logVkey, authPublicKey: beta.peer.auth_key };

function code(c: string, re?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, c, e.message);
    if (re) assert.match(e.message, re);
    return true;
  };
}

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function sameSizeEvidence(): EquivocationEvidence {
  const honest = tree(10);
  const forked = tree(10, 5);
  const unsigned = buildEquivocationEvidence({
    detectedBy: beta.id,
    detectedAt,
    checkpoints: [note(honest), note(forked)],
    logVerifier: logVkey,
  });
  return signEvidence(unsigned, beta.authSeed);
}

function inconsistentEvidence(): EquivocationEvidence {
  const honest = tree(7);
  const forked = tree(12, 3); // what the log later shows: leaf 3 rewritten
  const unsigned = buildEquivocationEvidence({
    detectedBy: beta.id,
    detectedAt,
    checkpoints: [note(forked), note(honest)],
    logVerifier: log.verifier(),
    consistencyProof: forked.consistencyProof(7, 12),
  });
  return signEvidence(unsigned, beta.authSeed);
}

test('same size, different root: build, sign, JSON round-trip, verify', () => {
  const e = sameSizeEvidence();
  assert.equal(e.type, EVIDENCE_TYPE);
  assert.equal(e.reason, 'same_size_different_root');
  assert.equal(e.origin, origin);
  assert.equal(e.detected_by, beta.id);
  assert.ok(!('consistency_proof' in e) && !('prefix_root' in e));
  const v = verifyEvidence(json(e), trust);
  assert.equal(v.checkpoints[0].size, 10);
  assert.notDeepEqual(v.checkpoints[0].root, v.checkpoints[1].root);
  verifyEvidenceWithRegistry(json(e), registry);
  // The raw public key works as well as the vkey.
  verifyEvidence(e, { logVerifier: log.verifier(), authPublicKey: crypto.ed25519PublicKey(beta.authSeed) });
  // Both input orders give the same document, so detectors agree.
  const [a, b] = e.checkpoints;
  const swapped = signEvidence(
    buildEquivocationEvidence({ detectedBy: beta.id, detectedAt, checkpoints: [b, a], logVerifier: logVkey }),
    beta.authSeed,
  );
  assert.deepEqual(swapped, e);
  // Cosignatures on the notes are kept and do not matter.
  const w = new CosignatureSigner(`${gamma.id}/witness`, gamma.witnessSeed);
  const cosigned = addSignatures(a, [w.cosign(a.slice(0, a.indexOf('\n\n') + 1), 1700000000)]);
  const e2 = signEvidence({ ...e, checkpoints: [cosigned, b] }, beta.authSeed);
  verifyEvidence(e2, trust);
});

test('different sizes: the proof must reach the larger root from another prefix root', () => {
  const e = inconsistentEvidence();
  assert.equal(e.reason, 'inconsistent');
  assert.ok(Array.isArray(e.consistency_proof) && typeof e.prefix_root === 'string');
  assert.equal(e.prefix_root, base64Encode(tree(12, 3).rootAt(7)));
  const v = verifyEvidence(json(e), trust);
  assert.deepEqual([v.checkpoints[0].size, v.checkpoints[1].size], [7, 12], 'smaller first');
  verifyEvidenceWithRegistry(e, registry);

  // A power-of-two smaller size: the proof does not carry the prefix root, the caller supplies it.
  const honest = tree(8);
  const forked = tree(13, 2);
  const input = {
    detectedBy: beta.id,
    detectedAt,
    checkpoints: [note(honest), note(forked)] as [string, string],
    logVerifier: logVkey,
    consistencyProof: forked.consistencyProof(8, 13),
  };
  assert.throws(() => buildEquivocationEvidence(input), code('EVIDENCE_INVALID', /zero or a power of two/));
  const e8 = signEvidence(buildEquivocationEvidence({ ...input, prefixRoot: forked.rootAt(8) }), beta.authSeed);
  verifyEvidence(e8, trust);
  // A fork after the smaller checkpoint's last leaf is no conflict: the histories agree up to it.
  assert.throws(
    () =>
      buildEquivocationEvidence({
        ...input,
        checkpoints: [note(tree(8)), note(tree(13, 9))],
        consistencyProof: tree(13, 9).consistencyProof(8, 13),
        prefixRoot: tree(13, 9).rootAt(8),
      }),
    code('EVIDENCE_INVALID', /consistent/),
  );
  // A fork at size 1 against an empty-tree checkpoint whose root is not the empty root.
  const bogusEmpty = signCheckpoint({ origin, size: 0, root: new Uint8Array(32).fill(9) }, log);
  verifyEvidence(
    signEvidence(
      buildEquivocationEvidence({
        ...input,
        checkpoints: [bogusEmpty, note(tree(3))],
        consistencyProof: [],
        prefixRoot: new MemoryTree().root(),
      }),
      beta.authSeed,
    ),
    trust,
  );
});

test('consistent checkpoints are not evidence, however the proof is dressed up', () => {
  const honest = tree(12);
  const a = note(honest, 7);
  const b = note(honest, 12);
  const base = { detectedBy: beta.id, detectedAt, checkpoints: [a, b] as [string, string], logVerifier: logVkey };
  assert.throws(
    () => buildEquivocationEvidence({ ...base, consistencyProof: honest.consistencyProof(7, 12) }),
    code('EVIDENCE_INVALID', /consistent/),
  );
  assert.throws(() => buildEquivocationEvidence(base), code('EVIDENCE_INVALID', /needs the consistency proof/));
  // A broken proof (what an attacker or a flaky network produces) shows nothing.
  const garbage = honest.consistencyProof(7, 12).map(() => crypto.randomBytes(32));
  assert.throws(
    () => buildEquivocationEvidence({ ...base, consistencyProof: garbage }),
    code('EVIDENCE_INVALID', /does not lead to the larger checkpoint's root/),
  );
  assert.throws(
    () =>
      buildEquivocationEvidence({
        ...base,
        consistencyProof: honest.consistencyProof(7, 12),
        prefixRoot: crypto.randomBytes(32),
      }),
    code('EVIDENCE_INVALID', /does not lead/),
  );
  // Same size, same root, different cosignatures.
  const w = new CosignatureSigner(`${gamma.id}/witness`, gamma.witnessSeed);
  const cosigned = addSignatures(b, [
    w.cosign(formatCheckpoint({ origin, size: 12, root: honest.root() }), 1700000000),
  ]);
  assert.throws(
    () => buildEquivocationEvidence({ ...base, checkpoints: [b, cosigned] }),
    code('EVIDENCE_INVALID', /same root/),
  );

  // Hand-made documents claiming a conflict are rejected by the verifier too.
  const forge = (doc: Record<string, unknown>) =>
    signEvidence(doc as unknown as UnsignedEquivocationEvidence, beta.authSeed);
  const claims: [Record<string, unknown>, RegExp][] = [
    [
      {
        type: EVIDENCE_TYPE,
        origin,
        detected_by: beta.id,
        detected_at: detectedAt,
        checkpoints: [a, b],
        reason: 'inconsistent',
        consistency_proof: garbage.map(base64Encode),
        prefix_root: base64Encode(crypto.randomBytes(32)),
      },
      /does not lead/,
    ],
    [
      {
        type: EVIDENCE_TYPE,
        origin,
        detected_by: beta.id,
        detected_at: detectedAt,
        checkpoints: [a, b],
        reason: 'inconsistent',
        consistency_proof: honest.consistencyProof(7, 12).map(base64Encode),
        prefix_root: base64Encode(honest.rootAt(7)),
      },
      /consistent/,
    ],
    [
      {
        type: EVIDENCE_TYPE,
        origin,
        detected_by: beta.id,
        detected_at: detectedAt,
        checkpoints: [b, a],
        reason: 'inconsistent',
        consistency_proof: [],
        prefix_root: base64Encode(honest.rootAt(7)),
      },
      /smaller checkpoint first/,
    ],
    [
      {
        type: EVIDENCE_TYPE,
        origin,
        detected_by: beta.id,
        detected_at: detectedAt,
        checkpoints: [a, b],
        reason: 'same_size_different_root',
      },
      /claims equal sizes/,
    ],
    [
      {
        type: EVIDENCE_TYPE,
        origin,
        detected_by: beta.id,
        detected_at: detectedAt,
        checkpoints: [b, cosigned],
        reason: 'same_size_different_root',
      },
      /same root/,
    ],
  ];
  for (const [doc, re] of claims) assert.throws(() => verifyEvidence(forge(doc), trust), code('EVIDENCE_INVALID', re));
});

test('checkpoints must carry the log signature of the origin', () => {
  const e = sameSizeEvidence();
  const honest = tree(10);
  // A checkpoint signed by a different key under the right name.
  const impostor = new NoteSigner(origin, beta.logSeed);
  const forged = signEvidence(
    { ...e, checkpoints: [e.checkpoints[0], note(tree(10, 1), 10, impostor)] },
    beta.authSeed,
  );
  assert.throws(
    () => verifyEvidence(forged, trust),
    code('EVIDENCE_INVALID', /checkpoints\[1\] is not validly signed/),
  );
  assert.throws(
    () =>
      buildEquivocationEvidence({
        detectedBy: beta.id,
        detectedAt,
        checkpoints: [note(honest), note(tree(10, 1), 10, impostor)],
        logVerifier: logVkey,
      }),
    code('EVIDENCE_INVALID', /checkpoints\[1\] is not validly signed/),
  );
  // The log key of another origin, even of the same node.
  assert.throws(
    () => verifyEvidence(e, { ...trust, logVerifier: logVerifierForOrigin(alpha.peer, `${alpha.id}/dao:other`) }),
    code('EVIDENCE_INVALID', /log key given/),
  );
  assert.throws(
    () => verifyEvidence(e, { ...trust, logVerifier: 'not a vkey' }),
    code('EVIDENCE_INVALID', /not an Ed25519 vkey/),
  );
  // Notes of two origins cannot be one log's equivocation.
  const other = new NoteSigner(`${alpha.id}/dao:other`, alpha.logSeed);
  assert.throws(
    () =>
      buildEquivocationEvidence({
        detectedBy: beta.id,
        detectedAt,
        checkpoints: [note(honest), note(tree(10, 1), 10, other)],
        logVerifier: logVkey,
      }),
    code('EVIDENCE_INVALID'),
  );
  assert.throws(
    () => parseEquivocationEvidence({ ...e, checkpoints: [e.checkpoints[0], note(tree(10, 1), 10, other)] }),
    code('EVIDENCE_INVALID', /has origin/),
  );
});

test('the detector signature: right key, untampered document', () => {
  const e = sameSizeEvidence();
  assert.throws(
    () => verifyEvidence(e, { ...trust, authPublicKey: gamma.peer.auth_key }),
    code('SIGNATURE_INVALID', /needs the auth key "beta\.vaultmesh\.local\/peer"/),
  );
  assert.throws(
    () => verifyEvidence(e, { ...trust, authPublicKey: crypto.ed25519PublicKey(gamma.authSeed) }),
    code('SIGNATURE_INVALID', /does not verify/),
  );
  assert.throws(() => verifyEvidence({ ...e, detected_at: '2025-03-01T12:00:01Z' }, trust), code('SIGNATURE_INVALID'));
  assert.throws(
    () => verifyEvidence({ ...e, signature: signEvidence(e, gamma.authSeed).signature }, trust),
    code('SIGNATURE_INVALID'),
  );
  // Claiming to be another detector needs that detector's key.
  const asGamma = signEvidence({ ...e, detected_by: gamma.id }, beta.authSeed);
  assert.throws(() => verifyEvidenceWithRegistry(asGamma, registry), code('SIGNATURE_INVALID'));
  verifyEvidenceWithRegistry(signEvidence({ ...e, detected_by: gamma.id }, gamma.authSeed), registry);
  // Detectors and logs must be peers of the registry.
  assert.throws(
    () => verifyEvidenceWithRegistry(signEvidence({ ...e, detected_by: 'stranger.example' }, beta.authSeed), registry),
    code('EVIDENCE_INVALID', /not a peer/),
  );
  // The signature covers exactly the document without it.
  const { signature: _s, ...unsigned } = e;
  assert.ok(
    crypto.ed25519Verify(
      crypto.ed25519PublicKey(beta.authSeed),
      evidenceSigningBytes(unsigned),
      base64Decode(e.signature),
    ),
  );
  assert.throws(() => signEvidence(unsigned, new Uint8Array(5)), code('INVALID_ARGUMENT'));
});

test('parseEquivocationEvidence rejects malformed documents', () => {
  const e = sameSizeEvidence();
  const i = inconsistentEvidence();
  const without = (d: object, k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  const cases: [unknown, RegExp][] = [
    [null, /not a JSON object/],
    [{ ...e, type: 'federation.other' }, /"type"/],
    [{ ...e, extra: 1 }, /unknown member "extra"/],
    [{ ...e, origin: 'no-namespace' }, /"origin"/],
    [{ ...e, detected_by: 'Beta' }, /"detected_by"/],
    [{ ...e, detected_at: 'yesterday' }, /"detected_at"/],
    [{ ...e, checkpoints: [e.checkpoints[0]] }, /exactly two/],
    [{ ...e, checkpoints: [e.checkpoints[0], 'not a note'] }, /checkpoints\[1\] is not a signed checkpoint/],
    [{ ...e, checkpoints: [e.checkpoints[0], 7] }, /checkpoints\[1\] must be a signed note/],
    [{ ...e, reason: 'different' }, /"reason"/],
    [{ ...e, consistency_proof: [] }, /must not carry/],
    [without(i, 'prefix_root'), /needs "consistency_proof" and "prefix_root"/],
    [{ ...i, consistency_proof: ['short'] }, /consistency_proof\[0\]/],
    [{ ...i, consistency_proof: Array(65).fill(i.prefix_root) }, /at most 64/],
    [{ ...i, prefix_root: 'AAAA' }, /prefix_root/],
    [without(e, 'signature'), /lacks member "signature"/],
    [{ ...e, signature: 'AAAA' }, /signature must be 64 bytes/],
  ];
  for (const [bad, re] of cases)
    assert.throws(() => parseEquivocationEvidence(bad), code('EVIDENCE_INVALID', re), String(re));
  assert.deepEqual(parseEquivocationEvidence(json(i)), i);
});

test('prefixRootFromConsistencyProof matches the tree for every size pair up to 40', () => {
  const t = tree(40);
  for (let m = 2; m <= 40; m++) {
    for (let n = 1; n < m; n++) {
      const got = prefixRootFromConsistencyProof(n, m, t.consistencyProof(n, m));
      if ((n & (n - 1)) === 0) assert.equal(got, undefined, `${n}`);
      else assert.deepEqual(got, t.rootAt(n), `${n} → ${m}`);
    }
  }
  for (const [n, m] of [
    [0, 5],
    [5, 5],
    [6, 5],
    [1.5, 4],
    [-1, 3],
  ])
    assert.equal(prefixRootFromConsistencyProof(n!, m!, [new Uint8Array(32)]), undefined);
  assert.equal(prefixRootFromConsistencyProof(3, 5, []), undefined);
  assert.equal(prefixRootFromConsistencyProof(3, 5, [new Uint8Array(31)]), undefined);
});

test('forks are detected for arbitrary sizes and fork points (fast-check)', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 60 }), fc.nat(), (n, extra, f) => {
      const m = n + extra;
      const fork = f % n; // a leaf both checkpoints cover
      const honest = tree(n);
      const forked = tree(m, fork);
      const e = signEvidence(
        buildEquivocationEvidence({
          detectedBy: beta.id,
          detectedAt,
          checkpoints: [note(honest), note(forked)],
          logVerifier: logVkey,
          consistencyProof: forked.consistencyProof(n, m),
          prefixRoot: forked.rootAt(n),
        }),
        beta.authSeed,
      );
      verifyEvidence(json(e), trust);
    }),
    { numRuns: 60 },
  );
});

function onlyRemembrancerErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
  }
}

test('evidence parsing and verification throw only RemembrancerError on arbitrary JSON (fast-check)', () => {
  const valid = [sameSizeEvidence(), inconsistentEvidence()];
  fc.assert(
    fc.property(fc.jsonValue(), (v) => {
      onlyRemembrancerErrors(() => parseEquivocationEvidence(v));
      onlyRemembrancerErrors(() => verifyEvidence(v, trust));
      onlyRemembrancerErrors(() => verifyEvidenceWithRegistry(v, registry));
    }),
    { numRuns: 300 },
  );
  const members = [
    'type',
    'origin',
    'detected_by',
    'detected_at',
    'checkpoints',
    'reason',
    'consistency_proof',
    'prefix_root',
    'signature',
    'extra',
  ];
  fc.assert(
    fc.property(fc.constantFrom(...valid), fc.constantFrom(...members), fc.jsonValue(), (doc, member, value) => {
      const mutated = { ...doc, [member]: value };
      onlyRemembrancerErrors(() => verifyEvidence(mutated, trust));
      // Anything but the unchanged document fails.
      if (JSON.stringify((doc as unknown as Record<string, unknown>)[member]) !== JSON.stringify(value)) {
        assert.throws(() => verifyEvidence(mutated, trust), RemembrancerError);
      }
    }),
    { numRuns: 300 },
  );
});
