import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import fc from 'fast-check';
import {
  GOVERNANCE_SCHEMAS,
  MESSAGE_ACTIONS,
  MESSAGE_OPERATION_PATTERN,
  NAMESPACE_ID_PATTERN,
  NODE_NAME_PATTERN,
  RemembrancerError,
  SCHEMA_ID_PATTERN,
  TSA_NAME_PATTERN,
  UTC_TIMESTAMP_PATTERN,
  base64Encode,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  buildSchemaRegister,
  canonicalize,
  crypto,
  parseGovernanceDocument,
  signGovernanceDocument,
  type GovernanceDocument,
} from '@vaultmesh/core';
import { WRITER_ID_PATTERN } from '../../packages/core/src/namespace/namespace-spec.js';
import {
  MAX_MESSAGING_OPERATIONS,
  MAX_MESSAGING_SOURCES,
  MAX_MESSAGING_WITNESSES,
} from '../../packages/core/src/namespace/messaging-rules.js';
import { mutate } from './mutate.js';

type Json = Record<string, any>;

const load = (id: string) =>
  JSON.parse(readFileSync(new URL(`../../schemas/${id}.json`, import.meta.url), 'utf8')) as Json;
const schemas = Object.fromEntries(GOVERNANCE_SCHEMAS.map((id) => [id, load(id)])) as Record<string, Json>;
const ajv = new Ajv2020({ strict: true, allErrors: true });
const validators = Object.fromEntries(GOVERNANCE_SCHEMAS.map((id) => [id, ajv.compile(schemas[id]!)]));
/** True iff some governance schema accepts `doc` (each accepts only documents naming it in `schema`). */
const validate = (doc: unknown): boolean => GOVERNANCE_SCHEMAS.some((id) => validators[id]!(doc));
const errors = (doc: Json) => JSON.stringify(validators[doc?.['schema']]?.errors ?? 'no schema of that name');

const seed = (n: number) => new Uint8Array(32).fill(n);
const key = (n: number) => base64Encode(crypto.ed25519PublicKey(seed(n)));
const T = '2025-03-01T12:00:00Z';
const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

const specs: unknown[] = [
  {},
  {
    description: 'DAO decisions ✓',
    visibility: 'private',
    witness_policy: { min_required: 2, allowlist: ['alpha.vaultmesh.local', 'beta.vaultmesh.local', 'gamma'] },
    schema_policy: { allow: ['invoice@^1.2.0', 'registry.set@~1.0.0', 'a@1.0.x || >=3'] },
    writers: [
      { id: 'writer-1', ed25519: key(1) },
      { id: 'ci@build/main', token_sha256: 'ab'.repeat(32), scopes: ['read', 'write'] },
      { id: 'auditor', token_sha256: 'cd'.repeat(32), scopes: ['read'] },
      { id: 'w:2', token_sha256: 'ef'.repeat(32) },
    ],
    limits: { max_entry_bytes: 2, rate_per_second: 0.25, quota_entries: 1, quota_bytes: Number.MAX_SAFE_INTEGER },
    cadence: {
      fast: { target: 'rfc3161:freetsa.org', every: '89s', confirmations: 0 },
      strong: { target: 'eip155:9007199254740991', every: '12*fast', confirmations: 12 },
      cold: { target: 'btc:testnet4', every: '30*strong', confirmations: 6 },
    },
  },
  {
    schema_policy: { allow: [] },
    limits: { rate_per_second: 1000000, burst: 1000000 },
    cadence: { cold: { target: 'btc:regtest', every: '366d', confirmations: 10000 } },
  },
  {
    messaging: {
      accept_from: ['beta.vaultmesh.local/dao:x', '*/fin:clearing', 'gamma/*', '*/*'],
      actions: ['notify', 'query'],
      operations: ['record', 'settle.v2', '*', 'o'.repeat(64)],
      min_witnesses: 99,
    },
  },
  { messaging: { accept_from: [], actions: ['invoke'], operations: ['*'], min_witnesses: 0 } },
];

const cadences: unknown[] = [
  {},
  {
    fast: { target: 'eip155:1', every: '1s', confirmations: 0 },
    cold: { target: 'btc:mainnet', every: '10000*fast', confirmations: 1 },
  },
];

function realDocuments(): GovernanceDocument[] {
  const out: GovernanceDocument[] = [];
  for (const spec of specs) {
    out.push(buildNamespaceCreate({ namespace: 'dao:vaultmesh', spec, issued_at: T }));
    out.push(
      buildNamespacePolicySet({
        namespace: 'fin-1:clearing-2',
        version: 2,
        spec,
        issued_at: T,
        effective_after: '2025-03-02T00:00:00.123456789Z',
      }),
    );
  }
  for (const cadence of cadences)
    out.push(buildCadenceSet({ namespace: 'a:b', version: Number.MAX_SAFE_INTEGER, cadence, issued_at: T }));
  out.push(
    buildSchemaRegister({
      schema_id: 'invoice@1.2.3',
      definition: { type: 'object', properties: { amount: { type: 'integer' } } },
      issued_at: T,
    }),
  );
  out.push(buildSchemaRegister({ schema_id: 'federation.registry.set@10.0.0', definition: {}, issued_at: T }));
  // Signed, and unsigned drafts.
  return [
    ...out,
    ...out.map((d) => signGovernanceDocument(signGovernanceDocument(d, 'operator-1', seed(7)), 'op.2@site/b', seed(8))),
  ].map(json);
}

test('the four schemas are valid JSON Schema 2020-12 with ids matching their file names', () => {
  for (const id of GOVERNANCE_SCHEMAS) {
    assert.equal(schemas[id]!['$id'], `https://vaultmesh.dev/schemas/${id}.json`);
    assert.deepEqual(schemas[id]!['properties']['schema'], { const: id });
  }
});

test('documents built by core match their schema, and only theirs', () => {
  const docs = realDocuments();
  assert.equal(docs.length, 28);
  for (const d of docs) {
    assert.ok(validators[d.schema]!(d), `${d.schema}: ${errors(d)}`);
    for (const other of GOVERNANCE_SCHEMAS) if (other !== d.schema) assert.equal(validators[other]!(d), false);
  }
});

test('the schemas reject malformed documents, and so does core', () => {
  const docs = realDocuments();
  const [create, , richCreate, richSet] = docs as Json[];
  const cadence = docs.find((d) => d.schema === 'governance.cadence.set@1.0.0') as Json;
  const schema = docs.find((d) => d.schema === 'schema.register@1.0.0') as Json;
  const signed = docs.find((d) => d.signatures !== undefined && d.schema === 'namespace.create@1.0.0') as Json;
  const rich = richCreate!['spec'];
  const withSpec = (doc: Json, changes: Json) => ({ ...doc, spec: { ...doc['spec'], ...changes } });
  const without = (o: Json, k: string) => Object.fromEntries(Object.entries(o).filter(([m]) => m !== k));
  const w0 = rich.writers[0];
  const w1 = rich.writers[1];
  const level = rich.cadence.fast;
  const messaging = (docs.find((d) => canonicalize(d).includes('settle.v2')) as Json)['spec'].messaging;
  const cases: unknown[] = [
    { ...create, extra: 1 },
    { ...create, schema: 'namespace.create@1.0.1' },
    without(create!, 'schema'),
    without(create!, 'issued_at'),
    without(create!, 'spec'),
    { ...create, namespace: 'Dao:vaultmesh' },
    { ...create, namespace: 'sys:governance' },
    { ...richSet, namespace: 'sys:x' },
    { ...create, version: 2 },
    { ...richSet, version: 1 },
    { ...richSet, version: 2.5 },
    { ...cadence, version: 2 ** 53 },
    { ...create, issued_at: '2025-03-01T12:00:00+00:00' },
    { ...create, effective_after: '2025-03-01t12:00:00z' },
    { ...create, signatures: [] },
    { ...signed, signatures: [{ ...signed['signatures'][0], sig: 'AAAA' }] },
    {
      ...signed,
      signatures: [{ ...signed['signatures'][0], sig: signed['signatures'][0].sig.replace(/.==$/, 'B==') }],
    },
    { ...signed, signatures: [{ ...signed['signatures'][0], signer: 'no spaces' }] },
    { ...signed, signatures: [{ signer: 'x' }] },
    // specs
    withSpec(create!, { extra: 1 }),
    { ...create, spec: without(rich, 'cadence') },
    withSpec(create!, { description: 'x'.repeat(1025) }),
    withSpec(create!, { visibility: 'secret' }),
    withSpec(create!, { witness_policy: { min_required: 1 } }),
    withSpec(create!, { witness_policy: { min_required: 0, allowlist: ['Alpha'] } }),
    withSpec(create!, { witness_policy: { min_required: 0, allowlist: ['a', 'a'] } }),
    withSpec(create!, { witness_policy: { min_required: -1, allowlist: [] } }),
    withSpec(create!, { schema_policy: { allow: ['*', '*'] } }),
    withSpec(create!, { schema_policy: { allow: ['Invoice@1.0.0'] } }),
    withSpec(create!, { schema_policy: { allow: ['invoice'] } }),
    withSpec(create!, { schema_policy: {} }),
    withSpec(create!, { writers: [{ ...w0, ed25519: w0.ed25519.slice(4) }] }),
    withSpec(create!, { writers: [{ ...w0, ed25519: w0.ed25519.replace(/.=$/, 'B=') }] }),
    withSpec(create!, { writers: [{ ...w0, id: 'a b' }] }),
    withSpec(create!, { writers: [{ ...w0, token_sha256: 'ab'.repeat(32) }] }),
    withSpec(create!, { writers: [{ id: 'w' }] }),
    withSpec(create!, { writers: [{ ...w1, scopes: ['read', 'write'] }] }),
    withSpec(create!, { writers: [{ ...w1, scopes: [] }] }),
    withSpec(create!, { writers: [without(w1, 'scopes')] }),
    withSpec(create!, { writers: [{ ...w1, token_sha256: 'AB'.repeat(32) }] }),
    withSpec(create!, { limits: without(rich.limits, 'burst') }),
    withSpec(create!, { limits: { ...rich.limits, burst: null } }),
    withSpec(create!, { limits: { ...rich.limits, rate_per_second: null } }),
    withSpec(create!, { limits: { ...rich.limits, rate_per_second: 0 } }),
    withSpec(create!, { limits: { ...rich.limits, max_entry_bytes: 65536 } }),
    withSpec(create!, { limits: { ...rich.limits, quota_bytes: 0 } }),
    withSpec(create!, { limits: { ...rich.limits, extra: 1 } }),
    withSpec(create!, { cadence: { hourly: level } }),
    withSpec(create!, { cadence: { fast: { ...level, confirmations: 1 } } }),
    withSpec(create!, { cadence: { fast: { ...level, every: '2*fast' } } }),
    withSpec(create!, { cadence: { fast: { ...level, every: '05m' } } }),
    withSpec(create!, { cadence: { fast: { ...level, target: 'eip155:01' } } }),
    withSpec(create!, { cadence: { fast: { ...level, target: 'btc:main' } } }),
    withSpec(create!, { cadence: { strong: { ...level, every: '2*fast' } } }),
    withSpec(create!, { cadence: { cold: { ...level, every: '2*strong' } } }),
    withSpec(create!, { cadence: { fast: without(level, 'every') } }),
    withSpec(create!, { messaging: null }),
    withSpec(create!, { messaging: { ...messaging, extra: 1 } }),
    withSpec(create!, { messaging: without(messaging, 'min_witnesses') }),
    withSpec(create!, { messaging: { ...messaging, accept_from: ['beta'] } }),
    withSpec(create!, { messaging: { ...messaging, accept_from: ['beta/dao'] } }),
    withSpec(create!, { messaging: { ...messaging, accept_from: ['Beta/*'] } }),
    withSpec(create!, { messaging: { ...messaging, accept_from: ['*/dao:*'] } }),
    withSpec(create!, { messaging: { ...messaging, accept_from: ['*/*', '*/*'] } }),
    withSpec(create!, { messaging: { ...messaging, actions: [] } }),
    withSpec(create!, { messaging: { ...messaging, actions: ['notify', 'invoke'] } }),
    withSpec(create!, { messaging: { ...messaging, actions: ['reply'] } }),
    withSpec(create!, { messaging: { ...messaging, operations: [] } }),
    withSpec(create!, { messaging: { ...messaging, operations: ['Record'] } }),
    withSpec(create!, { messaging: { ...messaging, operations: ['*', '*'] } }),
    withSpec(create!, { messaging: { ...messaging, min_witnesses: 100 } }),
    withSpec(create!, { messaging: { ...messaging, min_witnesses: -1 } }),
    // cadence.set
    { ...cadence, cadence: { cold: { target: 'btc:mainnet', every: '2*strong', confirmations: 1 } } },
    { ...cadence, cadence: { fast: { target: 'eip155:1', every: '1s', confirmations: 10001 } } },
    { ...cadence, cadence: [] },
    { ...cadence, spec: rich },
    // schema.register
    { ...schema, schema_id: 'invoice@1.0' },
    { ...schema, schema_id: 'invoice@01.0.0' },
    { ...schema, schema_id: 'Invoice@1.0.0' },
    { ...schema, schema_id: 'invoice@1.0.0-rc.1' },
    { ...schema, definition: [] },
    { ...schema, definition: true },
    { ...schema, namespace: 'a:b' },
  ];
  for (const bad of cases) {
    assert.equal(validate(bad), false, `schema accepted ${JSON.stringify(bad).slice(0, 200)}`);
    assert.throws(
      () => parseGovernanceDocument(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'GOVERNANCE_INVALID',
      `core accepted ${JSON.stringify(bad).slice(0, 200)}`,
    );
  }
});

test('documents recorded before messaging existed still match: the member is optional', () => {
  for (const d of realDocuments()) {
    if (d.schema !== 'namespace.create@1.0.0' && d.schema !== 'namespace.policy.set@1.0.0') continue;
    const old = json(d) as Json;
    delete old['spec'].messaging;
    delete old['signatures'];
    assert.ok(validators[d.schema]!(old), `${d.schema}: ${errors(old)}`);
    assert.equal(canonicalize(parseGovernanceDocument(old)), canonicalize(old));
  }
});

test('schema patterns are the ones core checks', () => {
  const same = (schemaPattern: string, re: RegExp) => assert.equal(schemaPattern, re.source.replace(/\\\//g, '/'));
  for (const id of GOVERNANCE_SCHEMAS) {
    const s = schemas[id]!;
    same(s['$defs'].timestamp.pattern, UTC_TIMESTAMP_PATTERN);
    same(s['$defs'].signatures.items.properties.signer.pattern, WRITER_ID_PATTERN);
    if (s['$defs'].namespace) same(s['$defs'].namespace.pattern, NAMESPACE_ID_PATTERN);
    if (s['$defs'].spec) {
      same(s['$defs'].node_name.pattern, NODE_NAME_PATTERN);
      same(s['$defs'].writer_id.pattern, WRITER_ID_PATTERN);
      const m = s['$defs'].messaging.properties;
      const part = (re: RegExp) => re.source.slice(1, -1);
      assert.equal(
        m.accept_from.items.pattern,
        `^(\\*|${part(NODE_NAME_PATTERN)})/(\\*|${part(NAMESPACE_ID_PATTERN)})$`,
      );
      assert.equal(m.operations.items.pattern, `^(\\*|${part(MESSAGE_OPERATION_PATTERN)})$`);
      assert.equal(m.accept_from.maxItems, MAX_MESSAGING_SOURCES);
      assert.equal(m.operations.maxItems, MAX_MESSAGING_OPERATIONS);
      assert.equal(m.min_witnesses.maximum, MAX_MESSAGING_WITNESSES);
      assert.equal(m.actions.enum.at(-1).join(), MESSAGE_ACTIONS.join());
    }
    if (s['$defs'].cadence_target)
      assert.ok(s['$defs'].cadence_target.pattern.includes(`rfc3161:${TSA_NAME_PATTERN.source.slice(1, -1)})$`));
  }
  same(schemas['schema.register@1.0.0']!['properties'].schema_id.pattern, SCHEMA_ID_PATTERN);
});

test('whatever the schemas reject, parseGovernanceDocument rejects too (fast-check)', () => {
  const docs = realDocuments();
  const values = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      '',
      'sys:x',
      'a:b',
      '*',
      'read',
      'write',
      'eip155:1',
      'rfc3161:tsa',
      '5m',
      '2*fast',
      '2*strong',
      '*/*',
      'beta/dao:x',
      'notify',
      'record',
      key(3),
      'ab'.repeat(32),
      0,
      1,
      2,
      -1,
      0.5,
      null,
      [],
      {},
    ),
    fc.constantFrom(
      '2025-01-01T00:00:00Z',
      'namespace.create@1.0.0',
      'namespace.policy.set@1.0.0',
      'governance.cadence.set@1.0.0',
      'schema.register@1.0.0',
    ),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...docs),
      fc.array(fc.nat(), { maxLength: 5 }),
      values,
      fc.boolean(),
      (doc, path, value, add) => {
        const m = mutate(doc, path, value, add);
        let parsed = true;
        try {
          parseGovernanceDocument(m);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError, String(e));
          parsed = false;
        }
        if (parsed)
          assert.ok(
            validate(m),
            `core accepted what the schema rejects: ${JSON.stringify(m).slice(0, 300)} ${errors(m as Json)}`,
          );
      },
    ),
    { numRuns: 800 },
  );
});
