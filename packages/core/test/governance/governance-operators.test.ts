import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  RemembrancerError,
  buildNamespaceCreate,
  buildSchemaRegister,
  parseGovernanceOperators,
  signGovernanceDocument,
  verifyGovernanceSignatures,
  type GovernanceDocument,
} from '../../src/index.js';
import { MAX_DOCUMENT_SIGNATURES } from '../../src/namespace/entry-signatures.js';
import {
  alice,
  at,
  bob,
  carol,
  makeOperator,
  mallory,
  operators,
  randomSeed,
  richSpec,
  sampleDefinition,
  throwsCode,
  type TestOperator,
} from './fixtures.js';

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function draft(): GovernanceDocument {
  return buildNamespaceCreate({ namespace: 'dao:vaultmesh', spec: richSpec, issued_at: at(0) });
}

function signedBy(doc: GovernanceDocument, ...ops: readonly TestOperator[]): GovernanceDocument {
  return ops.reduce((d, o) => signGovernanceDocument(d, o.id, o.seed), doc);
}

test('parseGovernanceOperators accepts a configuration and returns a copy', () => {
  const config = { threshold: 2, operators: [alice, bob, carol].map((o) => ({ id: o.id, ed25519: o.ed25519 })) };
  const parsed = parseGovernanceOperators(config, '/governance');
  assert.deepEqual(parsed, config);
  config.operators[0]!.id = 'changed';
  assert.equal(parsed.operators[0]!.id, 'alice');
});

test('parseGovernanceOperators refuses malformed configurations with CONFIG_INVALID', () => {
  const op = (o: TestOperator) => ({ id: o.id, ed25519: o.ed25519 });
  const many = Array.from({ length: MAX_DOCUMENT_SIGNATURES + 1 }, (_, i) => op(makeOperator(`op${i}`, i + 10)));
  const cases: [unknown, string][] = [
    [null, '/governance'],
    [{ threshold: 1 }, '/governance/operators'],
    [{ threshold: 1, operators: [] }, '/governance/operators'],
    [{ threshold: 1, operators: [op(alice)], quorum: 1 }, '/governance/quorum'],
    [{ operators: [op(alice)] }, '/governance/threshold'],
    [{ threshold: 0, operators: [op(alice)] }, '/governance/threshold'],
    [{ threshold: 2, operators: [op(alice)] }, '/governance/threshold'],
    [{ threshold: 1.5, operators: [op(alice), op(bob)] }, '/governance/threshold'],
    [{ threshold: '1', operators: [op(alice)] }, '/governance/threshold'],
    // A document carries at most 32 signatures: a higher threshold could never be met.
    [{ threshold: MAX_DOCUMENT_SIGNATURES + 1, operators: many }, '/governance/threshold'],
    [{ threshold: 1, operators: [{ id: 'alice' }] }, '/governance/operators/0/ed25519'],
    [{ threshold: 1, operators: [{ ...op(alice), role: 'admin' }] }, '/governance/operators/0/role'],
    [{ threshold: 1, operators: [{ ...op(alice), id: 'al ice' }] }, '/governance/operators/0/id'],
    [
      { threshold: 1, operators: [{ ...op(alice), ed25519: alice.ed25519.slice(4) }] },
      '/governance/operators/0/ed25519',
    ],
    [{ threshold: 1, operators: [op(alice), { ...op(bob), id: 'alice' }] }, '/governance/operators/1'],
    // One key under two ids would count twice towards the threshold.
    [{ threshold: 1, operators: [op(alice), { ...op(alice), id: 'alice2' }] }, '/governance/operators/1/ed25519'],
    [
      { threshold: 1, operators: Array.from({ length: 257 }, (_, i) => op(makeOperator(`op${i}`, i))) },
      '/governance/operators',
    ],
  ];
  for (const [value, pointer] of cases)
    throwsCode(() => parseGovernanceOperators(value, '/governance'), 'CONFIG_INVALID', pointer);
  assert.equal(
    parseGovernanceOperators({ threshold: MAX_DOCUMENT_SIGNATURES, operators: many }, '').threshold,
    MAX_DOCUMENT_SIGNATURES,
  );
});

test('a threshold of distinct operators that signed validly authorizes a document', () => {
  const two = operators(2);
  assert.deepEqual(verifyGovernanceSignatures(signedBy(draft(), alice, bob), two), ['alice', 'bob']);
  assert.deepEqual(verifyGovernanceSignatures(signedBy(draft(), carol, alice, bob), two), ['alice', 'bob', 'carol']);
  assert.deepEqual(verifyGovernanceSignatures(signedBy(draft(), bob), operators(1)), ['bob']);
  // Works on the JSON a node stores and reads back, for every kind of document.
  const schema = buildSchemaRegister({ schema_id: 'invoice@1.0.0', definition: sampleDefinition, issued_at: at(0) });
  assert.deepEqual(verifyGovernanceSignatures(json(signedBy(schema, bob, carol)), two), ['bob', 'carol']);
});

test('fewer valid operator signatures than the threshold: GOVERNANCE_NOT_AUTHORIZED', () => {
  throwsCode(() => verifyGovernanceSignatures(draft(), operators(1)), 'GOVERNANCE_NOT_AUTHORIZED', '/signatures');
  throwsCode(
    () => verifyGovernanceSignatures(signedBy(draft(), alice), operators(2)),
    'GOVERNANCE_NOT_AUTHORIZED',
    '/signatures',
  );
  throwsCode(
    () => verifyGovernanceSignatures(signedBy(draft(), alice, bob), operators(3)),
    'GOVERNANCE_NOT_AUTHORIZED',
    '/signatures',
  );
});

test('signatures by unknown signers count for nothing', () => {
  const doc = signedBy(draft(), alice, mallory);
  throwsCode(() => verifyGovernanceSignatures(doc, operators(2)), 'GOVERNANCE_NOT_AUTHORIZED', '/signatures');
  try {
    verifyGovernanceSignatures(doc, operators(2));
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.match(
      e.message,
      /needs valid signatures by 2 distinct operators, has 1; signed by alice; ignored unknown signers mallory/,
    );
  }
  assert.deepEqual(verifyGovernanceSignatures(signedBy(draft(), alice, mallory, bob), operators(2)), ['alice', 'bob']);
});

test('an invalid signature by a configured operator is refused as forged, even when the threshold is met', () => {
  // mallory signs under carol's name.
  const forged = signedBy(signGovernanceDocument(draft(), carol.id, mallory.seed), alice, bob);
  throwsCode(() => verifyGovernanceSignatures(forged, operators(2)), 'GOVERNANCE_NOT_AUTHORIZED', '/signatures/2');
  throwsCode(
    () => verifyGovernanceSignatures(signGovernanceDocument(draft(), alice.id, randomSeed()), operators(1)),
    'GOVERNANCE_NOT_AUTHORIZED',
    '/signatures/0',
  );
  // A document altered after signing.
  const signed = json(signedBy(draft(), alice, bob)) as any;
  const altered = { ...signed, spec: { ...signed.spec, description: 'altered' } };
  throwsCode(() => verifyGovernanceSignatures(altered, operators(2)), 'GOVERNANCE_NOT_AUTHORIZED', '/signatures/0');
  const later = { ...signed, effective_after: at(999) };
  throwsCode(() => verifyGovernanceSignatures(later, operators(1)), 'GOVERNANCE_NOT_AUTHORIZED', '/signatures/0');
});

test('one operator cannot sign twice', () => {
  const signed = json(signedBy(draft(), alice)) as any;
  const twice = { ...signed, signatures: [signed.signatures[0], signed.signatures[0]] };
  throwsCode(() => verifyGovernanceSignatures(twice, operators(2)), 'GOVERNANCE_INVALID', '/signatures/1');
  // Signing again replaces the operator's signature rather than adding one.
  const again = signGovernanceDocument(signedBy(draft(), alice), alice.id, alice.seed);
  assert.equal(again.signatures?.length, 1);
  assert.deepEqual(again, signedBy(draft(), alice), 'Ed25519 is deterministic');
  throwsCode(() => verifyGovernanceSignatures(again, operators(2)), 'GOVERNANCE_NOT_AUTHORIZED');
});

test('signatures can be gathered in any order and give identical documents', () => {
  assert.deepEqual(signedBy(draft(), alice, bob, carol), signedBy(draft(), carol, alice, bob));
});

test('a malformed document or configuration is refused before any signature is checked', () => {
  throwsCode(
    () => verifyGovernanceSignatures({ ...signedBy(draft(), alice), extra: 1 } as never, operators(1)),
    'GOVERNANCE_INVALID',
    '/extra',
  );
  throwsCode(
    () => verifyGovernanceSignatures(signedBy(draft(), alice), { threshold: 0, operators: [] }),
    'CONFIG_INVALID',
  );
  throwsCode(() => signGovernanceDocument(draft(), 'no spaces', alice.seed), 'INVALID_ARGUMENT');
  throwsCode(() => signGovernanceDocument(draft(), alice.id, new Uint8Array(16)), 'INVALID_ARGUMENT');
  throwsCode(
    () => signGovernanceDocument({ ...draft(), version: 2 } as never, alice.id, alice.seed),
    'GOVERNANCE_INVALID',
    '/version',
  );
});
