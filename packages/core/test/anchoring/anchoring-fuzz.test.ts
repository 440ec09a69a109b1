import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FEDERATION_RECEIPT_CHECKS,
  RemembrancerError,
  buildFederationReceipt,
  epochStatementDigest,
  parseEpochLeaf,
  parseEpochStatement,
  parseFederationReceipt,
  verifyEpochLeaf,
  verifyFederationReceipt,
  type ErrorCode,
} from '../../src/index.js';
import { mutate } from '../../../../test/schemas/mutate.js';
import { mutated } from '../note/arbitraries.js';
import { alpha, anchoredEpoch, json, registry, testAttestation, testEvidence, trustIn } from './federation.js';

// Receipts, leaves and statements cross trust boundaries (peers propose leaves, receipts travel to
// third parties): their parsers may only ever refuse with their own code, and the verifier never throws.

const SEED = Number(process.env['FC_SEED'] ?? 20250314);

const epoch = anchoredEpoch();
const digest = epochStatementDigest(epoch.statement);
const receipt = json(
  buildFederationReceipt({
    ...epoch,
    origin: `${alpha.id}/dao:vaultmesh`,
    anchor: testAttestation(digest),
    evidence: testEvidence(digest),
    finalizedAt: '2025-03-01T12:00:03Z',
    registry,
  }),
);
const trust = trustIn([registry]);

function onlyCode(code: ErrorCode, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    return false;
  }
}

const values = fc.oneof(
  fc.jsonValue(),
  mutated(fc.constant(receipt.leaf.checkpoint)),
  fc.constantFrom(receipt.leaf, receipt.statement, receipt.signatures, receipt.evidence, receipt.anchor),
);
const documents = fc.oneof(
  fc.jsonValue(),
  fc
    .tuple(fc.array(fc.nat(), { maxLength: 4 }), values, fc.boolean())
    .map(([path, v, add]) => mutate(receipt, path, v, add)),
);

test('the parsers refuse arbitrary JSON only with their own code (fast-check)', () => {
  fc.assert(
    fc.property(documents, (doc) => {
      onlyCode('FEDERATION_RECEIPT_MALFORMED', () => parseFederationReceipt(doc));
      const r = doc as { leaf?: unknown; statement?: unknown } | null;
      for (const leaf of [doc, r?.leaf]) {
        onlyCode('EPOCH_LEAF_INVALID', () => parseEpochLeaf(leaf));
        onlyCode('EPOCH_LEAF_INVALID', () => verifyEpochLeaf(leaf as never, registry));
      }
      for (const s of [doc, r?.statement]) onlyCode('EPOCH_STATEMENT_INVALID', () => parseEpochStatement(s));
    }),
    { numRuns: 1000, seed: SEED },
  );
});

test('verifyFederationReceipt never throws and lists every check (fast-check)', async () => {
  await fc.assert(
    fc.asyncProperty(documents, async (doc) => {
      const v = await verifyFederationReceipt(doc, trust);
      assert.deepEqual(
        v.checks.map((c) => c.name),
        FEDERATION_RECEIPT_CHECKS,
      );
      assert.equal(
        v.ok,
        v.checks.every((c) => c.ok),
      );
      if (v.ok) assert.deepEqual(v.receipt, parseFederationReceipt(doc));
    }),
    { numRuns: 300, seed: SEED },
  );
});
