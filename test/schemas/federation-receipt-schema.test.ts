import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  FEDERATION_ID_PATTERN,
  NAMESPACE_ID_PATTERN,
  NODE_NAME_PATTERN,
  ORIGIN_PATTERN,
  RemembrancerError,
  TSA_NAME_PATTERN,
  UTC_TIMESTAMP_PATTERN,
  base64Encode,
  buildEpochTree,
  buildFederationReceipt,
  epochStatementDigest,
  isUtcTimestamp,
  parseEpochLeaf,
  parseEpochStatement,
  parseFederationReceipt,
  type FederationReceipt,
} from '@vaultmesh/core';
import { ANCHOR_ID_PATTERN } from '../../packages/core/src/anchoring/federation-receipt.js';
import {
  alpha,
  anchoredEpoch,
  beta,
  federation,
  gamma,
  json,
  registry,
  sealedLeaf,
  signedBy,
  statementFor,
  testAttestation,
  testEvidence,
} from '../../packages/core/test/anchoring/federation.js';
import { mutate } from './mutate.js';

const SEED = Number(process.env['FC_SEED'] ?? 20250313);

type Json = Record<string, any>;
const load = (file: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${file}`, import.meta.url), 'utf8')) as Json;
const schema = load('federation.receipt@1.0.0.json');
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validate = ajv.compile(schema);
const validateLeaf = ajv.compile({ $ref: `${schema['$id']}#/$defs/epoch_leaf` });
const validateStatement = ajv.compile({ $ref: `${schema['$id']}#/$defs/epoch_statement` });

/** Real receipts: collaborative and independent epochs, one and two TSA tokens, a block. */
function realReceipts(): FederationReceipt[] {
  const out: FederationReceipt[] = [];
  const e = anchoredEpoch();
  const digest = epochStatementDigest(e.statement);
  for (const leaf of e.tree.leaves) {
    out.push(
      buildFederationReceipt({
        ...e,
        origin: leaf.origin,
        anchor: testAttestation(digest),
        evidence: testEvidence(digest),
        finalizedAt: '2025-03-01T12:00:03.5Z',
        registry,
      }),
    );
  }
  const leaves = [sealedLeaf(alpha, 'dao:vaultmesh', 7, { cosigners: [beta, gamma], min: 1 })];
  const tree = buildEpochTree(leaves);
  const statement = statementFor(tree, { mode: 'independent', node: alpha.id, target: 'eip155:11155111' });
  const sd = epochStatementDigest(statement);
  const tokens = [testEvidence(sd).tokens[0]!, base64Encode(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]))];
  out.push(
    buildFederationReceipt({
      statement,
      signatures: signedBy(statement, [alpha]),
      tree,
      origin: leaves[0]!.origin,
      anchor: { tx_hash: '0x' + 'ab'.repeat(32), block: '7312345', timestamp: '2025-03-01T12:00:02Z' },
      evidence: { type: 'rfc3161', policy: 'all', tokens },
      finalizedAt: '2025-03-01T12:00:03Z',
      registry: federation('independent'),
    }),
  );
  return out.map(json);
}

function accepts(parse: (v: unknown) => unknown, value: unknown): boolean {
  try {
    parse(value);
    return true;
  } catch (e) {
    assert.ok(e instanceof RemembrancerError, String(e));
    return false;
  }
}

test('receipts built by core match federation.receipt@1.0.0', () => {
  for (const r of realReceipts()) {
    assert.ok(validate(r), JSON.stringify(validate.errors));
    assert.ok(validateLeaf(r.leaf) && validateStatement(r.statement));
    assert.deepEqual(parseFederationReceipt(r), r);
  }
});

test('the schema and parseFederationReceipt reject the same malformed receipts', () => {
  const [r, , , , ind] = realReceipts() as unknown as [Json, Json, Json, Json, Json];
  const without = (d: Json, k: string) => Object.fromEntries(Object.entries(d).filter(([x]) => x !== k));
  const sig = r['signatures'][0];
  const cases: unknown[] = [
    null,
    [],
    { ...r, extra: 1 },
    without(r, 'evidence'),
    without(r, 'statement'),
    { ...r, format: 'federation.receipt@1.0.1' },
    { ...r, federation_id: 'Vault Mesh' },
    { ...r, receipt_type: 'message' },
    { ...r, namespace: 'nope' },
    { ...r, anchor: { ...r['anchor'], batch_root: 'AAAA' } },
    { ...r, anchor: { ...r['anchor'], target: 'rfc3161:' } },
    { ...r, anchor: { ...r['anchor'], target: 'http:x' } },
    { ...r, anchor: { ...r['anchor'], tx_hash: '' } },
    { ...r, anchor: { ...r['anchor'], tx_hash: 'has space' } },
    { ...r, anchor: { ...r['anchor'], tx_hash: 'x'.repeat(257) } },
    { ...r, anchor: { ...r['anchor'], block: 12 } },
    { ...r, anchor: { ...r['anchor'], timestamp: '2025-03-01 12:00:00Z' } },
    { ...r, anchor: without(r['anchor'], 'block') },
    { ...r, anchor: { ...r['anchor'], extra: 1 } },
    { ...r, signatures: [] },
    { ...r, signatures: [{ ...sig, role: 'signer' }] },
    { ...r, signatures: [sig, { ...sig, node: beta.id }] },
    { ...r, signatures: [{ ...sig, role: 'witness' }] },
    { ...r, signatures: [{ ...sig, node: 'Alpha' }] },
    { ...r, signatures: [{ ...sig, sig: 'AAAA' }] },
    { ...r, signatures: [{ ...sig, sig: sig.sig.slice(0, 85) + 'B==' }] },
    { ...r, signatures: [{ ...sig, timestamp: 1 }] },
    { ...r, signatures: [without(sig, 'timestamp')] },
    { ...r, signatures: [{ ...sig, extra: 1 }] },
    { ...r, signatures: Array(257).fill(sig) },
    { ...r, quorum_met: 'yes' },
    { ...r, finalized_at: null },
    { ...r, statement: { ...r['statement'], mode: 'independent' } },
    { ...r, statement: { ...r['statement'], node: alpha.id } },
    { ...r, statement: { ...r['statement'], epoch: -1 } },
    { ...r, statement: { ...r['statement'], extra: 1 } },
    { ...r, leaf: { ...r['leaf'], size: 0 } },
    { ...r, leaf: { ...r['leaf'], origin: 'alpha' } },
    { ...r, leaf: { ...r['leaf'], checkpoint: '' } },
    { ...r, leaf: { ...r['leaf'], witness_policy: { min_required: 0, allowlist: [beta.id, beta.id] } } },
    { ...r, leaf: { ...r['leaf'], witness_policy: { min_required: 0 } } },
    { ...r, leaf_index: -1 },
    { ...r, leaf_index: 0.5 },
    { ...r, inclusion_proof: ['AAAA'] },
    { ...r, inclusion_proof: Array(65).fill(r['anchor'].batch_root) },
    { ...r, evidence: { ...r['evidence'], type: 'eip155' } },
    { ...r, evidence: { ...r['evidence'], policy: 'some' } },
    { ...r, evidence: { ...r['evidence'], tokens: [] } },
    { ...r, evidence: { ...r['evidence'], tokens: [''] } },
    { ...r, evidence: { ...r['evidence'], tokens: ['AAA'] } },
    { ...r, evidence: { ...r['evidence'], tokens: ['AB=='] } },
    { ...r, evidence: { ...r['evidence'], tokens: ['AAAA'.repeat(16_385)] } },
    { ...r, evidence: { ...r['evidence'], tokens: Array(17).fill('AAAA') } },
    { ...r, evidence: { ...r['evidence'], extra: 1 } },
    { ...ind, statement: { ...ind['statement'], node: null } },
  ];
  for (const bad of cases) {
    assert.equal(validate(bad), false, `schema accepted ${JSON.stringify(bad).slice(0, 200)}`);
    assert.throws(
      () => parseFederationReceipt(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'FEDERATION_RECEIPT_MALFORMED',
      `core accepted ${JSON.stringify(bad).slice(0, 200)}`,
    );
  }
  // What only the code can check: the schema accepts these, the parser does not.
  for (const bad of [
    { ...r, namespace: 'dao:other' },
    { ...r, finalized_at: '2025-02-30T00:00:00Z' },
    { ...ind, statement: { ...ind['statement'], target: 'eip155:9007199254740992' } },
    { ...ind, anchor: { ...ind['anchor'], target: 'eip155:9999999999999999' } },
  ]) {
    assert.ok(validate(bad), JSON.stringify(validate.errors));
    assert.ok(!accepts(parseFederationReceipt, bad));
  }
});

test('schema patterns are the ones core checks', () => {
  const same = (schemaPattern: string, re: RegExp) => assert.equal(schemaPattern, re.source.replace(/\\\//g, '/'));
  const defs = schema['$defs'];
  same(defs.federation_id.pattern, FEDERATION_ID_PATTERN);
  same(defs.node_name.pattern, NODE_NAME_PATTERN);
  same(defs.timestamp.pattern, UTC_TIMESTAMP_PATTERN);
  same(defs.anchor_id.pattern, ANCHOR_ID_PATTERN);
  same(defs.epoch_leaf.properties.origin.pattern, ORIGIN_PATTERN);
  same(schema['properties'].namespace.pattern, NAMESPACE_ID_PATTERN);
  // Targets are spelled as namespace cadences spell them.
  assert.equal(defs.target.pattern, load('namespace.create@1.0.0.json')['$defs'].cadence_target.pattern);
  assert.ok(defs.target.pattern.includes(`rfc3161:${TSA_NAME_PATTERN.source.slice(1, -1)})$`));
});

/** What parseFederationReceipt checks beyond the schema, for a document the schema accepts. */
function beyondSchema(r: Json): boolean {
  const chainIdOk = (t: string) => !t.startsWith('eip155:') || Number(t.slice(7)) <= Number.MAX_SAFE_INTEGER;
  return (
    r['namespace'] === r['leaf'].origin.slice(r['leaf'].origin.indexOf('/') + 1) &&
    [r['finalized_at'], r['anchor'].timestamp, ...r['signatures'].map((s: Json) => s['timestamp'])].every(
      isUtcTimestamp,
    ) &&
    chainIdOk(r['anchor'].target) &&
    chainIdOk(r['statement'].target)
  );
}

const interesting = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    '',
    'leader',
    'signer',
    'any',
    'all',
    'rfc3161',
    'collaborative',
    'independent',
    'eip155:1',
    'eip155:9999999999999999',
    'btc:signet',
    'rfc3161:tsa',
    'dao:vaultmesh',
    'dao:other',
    alpha.id,
    `${alpha.id}/dao:vaultmesh`,
    '2025-02-29T00:00:00Z',
    '2024-02-29T00:00:00Z',
    '2025-01-31T23:59:59.123456789Z',
    'AAAA',
    'AB==',
    'A'.repeat(43) + '=',
    'A'.repeat(86) + '==',
    0,
    1,
    -1,
    2 ** 53,
    0.5,
    null,
    true,
    [],
    {},
  ),
);

test('parseFederationReceipt accepts exactly what the schema accepts, plus its documented checks (fast-check)', () => {
  const docs = realReceipts();
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 5 }),
      interesting,
      fc.boolean(),
      (doc, path, value, add) => {
        const m = mutate(doc, path, value, add);
        const schemaSays = validate(m);
        const coreSays = accepts(parseFederationReceipt, m);
        assert.equal(
          coreSays,
          schemaSays && beyondSchema(m as Json),
          `${JSON.stringify(m).slice(0, 400)} ${JSON.stringify(validate.errors)}`,
        );
      },
    ),
    { numRuns: 1500, seed: SEED },
  );
});

test('parseEpochLeaf and parseEpochStatement accept exactly what their $defs accept (fast-check)', () => {
  const docs = realReceipts();
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 3 }),
      interesting,
      fc.boolean(),
      (doc, path, value, add) => {
        const leaf = mutate(doc.leaf, path, value, add);
        assert.equal(accepts(parseEpochLeaf, leaf), validateLeaf(leaf), JSON.stringify(leaf).slice(0, 300));
        const s = mutate(doc.statement, path, value, add) as Json;
        const chainIdOk =
          !(typeof s?.['target'] === 'string' && /^eip155:/.test(s['target'])) ||
          Number(s['target'].slice(7)) <= Number.MAX_SAFE_INTEGER;
        assert.equal(accepts(parseEpochStatement, s), validateStatement(s) && chainIdOk, JSON.stringify(s));
      },
    ),
    { numRuns: 1500, seed: SEED },
  );
});
