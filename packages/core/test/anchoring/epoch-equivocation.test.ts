import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  EPOCH_EVIDENCE_TYPE,
  RemembrancerError,
  buildEpochEquivocationEvidence,
  buildEpochTree,
  epochStatementConflict,
  parseEpochEquivocationEvidence,
  peerAuthPublicKey,
  signEpochEquivocationEvidence,
  signEpochStatement,
  verifyEpochEquivocation,
  verifyEpochEquivocationWithRegistry,
  type EpochEquivocationEvidence,
  type EpochStatement,
  type ErrorCode,
} from '../../src/index.js';
import { mutate } from '../../../../test/schemas/mutate.js';
import { mutated } from '../note/arbitraries.js';
import { alpha, beta, epochLeaves, federation, gamma, json, registry, statementFor } from './federation.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250315);
const schema = JSON.parse(
  readFileSync(new URL('../../../../schemas/federation.epoch.equivocation@1.0.0.json', import.meta.url), 'utf8'),
) as object;
const validate = new Ajv2020({ strict: true, allErrors: true }).compile(schema);

// Gamma, a dishonest anchor signer, signs two roots for one epoch: the whole tree, and a tree
// without one leaf.
const leaves = epochLeaves();
const first = statementFor(buildEpochTree(leaves));
const second = statementFor(buildEpochTree(leaves.slice(1)));
const gammaKey = peerAuthPublicKey(gamma.peer);
const detectedAt = '2025-03-01T12:00:05Z';

function built(a: EpochStatement = first, b: EpochStatement = second, signer = gamma) {
  return buildEpochEquivocationEvidence({
    detectedBy: alpha.id,
    detectedAt,
    signer: signer.id,
    first: { statement: a, sig: signEpochStatement(a, signer.authSeed) },
    second: { statement: b, sig: signEpochStatement(b, signer.authSeed) },
    signerPublicKeys: [peerAuthPublicKey(signer.peer), peerAuthPublicKey(signer.peer)],
  });
}

const evidence = json(signEpochEquivocationEvidence(built(), alpha.authSeed));
const trust = { signerPublicKeys: [gammaKey, gammaKey] as const, detectorPublicKey: peerAuthPublicKey(alpha.peer) };

function codeOf(fn: () => unknown): ErrorCode | undefined {
  try {
    fn();
    return undefined;
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, String(e));
    return e.code;
  }
}

test('two roots one signer signed for one epoch are evidence that verifies offline with the registry', () => {
  assert.equal(evidence.type, EPOCH_EVIDENCE_TYPE);
  assert.equal(evidence.signer, gamma.id);
  assert.ok(validate(evidence), JSON.stringify(validate.errors));
  assert.deepEqual(verifyEpochEquivocation(evidence, trust), evidence);
  assert.deepEqual(verifyEpochEquivocationWithRegistry(evidence, [registry]), evidence);
  // Either order of the inputs gives the same document: detectors agree on the pair.
  assert.deepEqual(json(signEpochEquivocationEvidence(built(second, first), alpha.authSeed)), evidence);
});

test('statements of two registry versions conflict too; each signature is checked with its version', () => {
  const v2 = federation('hybrid', 2);
  const later = statementFor(buildEpochTree(leaves.slice(2)), {}, v2);
  const doc = signEpochEquivocationEvidence(built(first, later), alpha.authSeed);
  assert.deepEqual(verifyEpochEquivocationWithRegistry(doc, [registry, v2]), doc);
  assert.match(
    String(codeOf(() => verifyEpochEquivocationWithRegistry(doc, [registry]))),
    /EVIDENCE_INVALID/,
    'a version it names is missing',
  );
});

test('epochStatementConflict: one epoch with another root or size only', () => {
  assert.match(epochStatementConflict(first, second) ?? '', /two roots for epoch 480000/);
  assert.match(epochStatementConflict(first, { ...first, tree_size: first.tree_size + 1 }) ?? '', /two roots/);
  assert.equal(epochStatementConflict(first, first), undefined);
  assert.equal(epochStatementConflict(first, { ...first, registry_version: 2 }), undefined);
  for (const other of [
    { ...second, epoch: 480_001 },
    { ...second, target: 'rfc3161:other' },
    { ...second, mode: 'independent' as const, node: gamma.id },
    { ...second, federation_id: 'other-federation' },
  ])
    assert.equal(epochStatementConflict(first, other), undefined, JSON.stringify(other));
});

test('building refuses what proves nothing: no conflict, a signature that does not verify', () => {
  assert.equal(
    codeOf(() => built(first, first)),
    'EVIDENCE_INVALID',
  );
  assert.equal(
    codeOf(() => built(first, { ...second, epoch: 480_001 })),
    'EVIDENCE_INVALID',
  );
  // Beta's signatures under gamma's name.
  assert.equal(
    codeOf(() =>
      buildEpochEquivocationEvidence({
        detectedBy: alpha.id,
        detectedAt,
        signer: gamma.id,
        first: { statement: first, sig: signEpochStatement(first, beta.authSeed) },
        second: { statement: second, sig: signEpochStatement(second, gamma.authSeed) },
        signerPublicKeys: [gammaKey, gammaKey],
      }),
    ),
    'EVIDENCE_INVALID',
  );
});

test('tampered evidence is refused with its code', () => {
  const resign = (doc: object) => json(signEpochEquivocationEvidence(doc as EpochEquivocationEvidence, alpha.authSeed));
  const otherRoot = {
    ...evidence,
    statements: [{ ...first, root: buildEpochTree(leaves.slice(3)).rootBase64 }, second],
  };
  const swappedSigs = { ...evidence, signatures: [evidence.signatures[1], evidence.signatures[0]] };
  const cases: [string, unknown, ErrorCode][] = [
    // Changed after the detector signed: its signature fails first.
    ['another root in a statement', otherRoot, 'SIGNATURE_INVALID'],
    ['the signatures swapped', swappedSigs, 'SIGNATURE_INVALID'],
    ['another detection time', { ...evidence, detected_at: '2025-03-01T12:00:06Z' }, 'SIGNATURE_INVALID'],
    ['another signer named', { ...evidence, signer: beta.id }, 'SIGNATURE_INVALID'],
    // A detector that signs a forgery: the signer's own signatures fail.
    ['another root, re-signed', resign(otherRoot), 'EVIDENCE_INVALID'],
    ['the signatures swapped, re-signed', resign(swappedSigs), 'EVIDENCE_INVALID'],
    // Form.
    [
      'the statements swapped',
      { ...evidence, statements: [evidence.statements[1], evidence.statements[0]] },
      'EVIDENCE_INVALID',
    ],
    ['an unknown member', { ...evidence, extra: 1 }, 'EVIDENCE_INVALID'],
    ['no detector signature', { ...evidence, signature: undefined }, 'EVIDENCE_INVALID'],
  ];
  for (const [what, doc, code] of cases) {
    assert.equal(
      codeOf(() => verifyEpochEquivocation(json(doc), trust)),
      code,
      what,
    );
  }
  // Re-signed by the detector after the signer was renamed: the signer's signatures fail.
  const renamed = signEpochEquivocationEvidence({ ...evidence, signer: beta.id }, alpha.authSeed);
  assert.equal(
    codeOf(() => verifyEpochEquivocationWithRegistry(renamed, [registry])),
    'EVIDENCE_INVALID',
  );
  // A detector or signer outside the registry.
  const stranger = { ...evidence, detected_by: 'omega.vaultmesh.local' };
  assert.equal(
    codeOf(() => verifyEpochEquivocationWithRegistry(stranger, [registry])),
    'EVIDENCE_INVALID',
  );
  assert.equal(
    codeOf(() => verifyEpochEquivocationWithRegistry(evidence, [federation('hybrid', 2)])),
    'EVIDENCE_INVALID',
  );
});

test('the schema agrees with the parser on real and tampered evidence', () => {
  for (const bad of [
    { ...evidence, type: 'federation.equivocation' },
    { ...evidence, statements: [first] },
    { ...evidence, signatures: ['short', evidence.signatures[1]] },
    { ...evidence, statements: [{ ...first, format: 'other' }, second] },
  ]) {
    assert.equal(validate(bad), false, JSON.stringify(bad).slice(0, 200));
    assert.equal(
      codeOf(() => parseEpochEquivocationEvidence(bad)),
      'EVIDENCE_INVALID',
    );
  }
});

// The document crosses a trust boundary (peers push it, anyone may POST it): the parser and the
// verifier may only ever accept the real document or refuse with their own codes.
test('fuzz: mutated evidence is accepted only when unchanged, and refused only with evidence codes', () => {
  const values = fc.oneof(
    fc.string(),
    fc.integer(),
    fc.constant(null),
    fc.boolean(),
    fc.constant(second),
    fc.constant(evidence.signatures[0]),
  );
  fc.assert(
    fc.property(fc.array(fc.nat(), { maxLength: 4 }), values, fc.boolean(), (path, value, add) => {
      const doc = mutate(evidence, path, value, add) as EpochEquivocationEvidence;
      let parsed: EpochEquivocationEvidence | undefined;
      try {
        parsed = verifyEpochEquivocationWithRegistry(doc, [registry]);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError, String(e));
        assert.ok(['EVIDENCE_INVALID', 'SIGNATURE_INVALID'].includes(e.code), e.code);
        return;
      }
      assert.deepEqual(parsed, evidence);
    }),
    { seed: SEED, numRuns: 400 },
  );
  fc.assert(
    fc.property(mutated(fc.constant(JSON.stringify(evidence))), (text) => {
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return;
      }
      const code = codeOf(() => parseEpochEquivocationEvidence(doc));
      assert.ok(code === undefined || code === 'EVIDENCE_INVALID', String(code));
    }),
    { seed: SEED, numRuns: 400 },
  );
});
