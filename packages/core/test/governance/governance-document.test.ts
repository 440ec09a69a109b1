import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  GOVERNANCE_NAMESPACE,
  GOVERNANCE_SCHEMAS,
  MAX_ENTRY_BYTES,
  MAX_SCHEMA_DEFINITION_DEPTH,
  RemembrancerError,
  buildCadenceSet,
  buildNamespaceCreate,
  buildNamespacePolicySet,
  buildSchemaRegister,
  canonicalize,
  isUtcTimestamp,
  parseGovernanceDocument,
  signGovernanceDocument,
  type GovernanceDocument,
} from '../../src/index.js';
import {
  CADENCE_SET_SCHEMA,
  NAMESPACE_CREATE_SCHEMA,
  NAMESPACE_POLICY_SET_SCHEMA,
  SCHEMA_REGISTER_SCHEMA,
  SYSTEM_NAMESPACE_PREFIX,
  buildGovernanceDocument,
} from '../../src/governance/index.js';
import { defaultNamespaceSpec, parseNamespaceSpec } from '../../src/namespace/namespace-spec.js';
import { alice, at, bob, richSpec, sampleDefinition, throwsCode } from './fixtures.js';

const json = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

function docs(): GovernanceDocument[] {
  const create = buildNamespaceCreate({
    namespace: 'dao:vaultmesh',
    spec: richSpec,
    issued_at: at(0),
    effective_after: at(60),
  });
  const set = buildNamespacePolicySet({
    namespace: 'dao:vaultmesh',
    version: 2,
    spec: { description: 'renamed' },
    base: create.spec,
    issued_at: at(100),
  });
  const cadence = buildCadenceSet({
    namespace: 'dao:vaultmesh',
    version: 3,
    cadence: { fast: { target: 'btc:signet', every: '10m', confirmations: 1 } },
    issued_at: at(200),
  });
  const schema = buildSchemaRegister({ schema_id: 'invoice@1.2.0', definition: sampleDefinition, issued_at: at(300) });
  return [create, set, cadence, schema].map((d) =>
    signGovernanceDocument(signGovernanceDocument(d, bob.id, bob.seed), alice.id, alice.seed),
  );
}

test('constants', () => {
  assert.deepEqual(GOVERNANCE_SCHEMAS, [
    'namespace.create@1.0.0',
    'namespace.policy.set@1.0.0',
    'governance.cadence.set@1.0.0',
    'schema.register@1.0.0',
  ]);
  assert.equal(SYSTEM_NAMESPACE_PREFIX, 'sys:');
  assert.equal(GOVERNANCE_NAMESPACE, 'sys:governance');
});

test('builders complete and normalize specs; parsing a built document changes nothing', () => {
  const [create, set, cadence, schema] = docs() as [
    GovernanceDocument,
    GovernanceDocument,
    GovernanceDocument,
    GovernanceDocument,
  ];
  assert.equal(create.schema, NAMESPACE_CREATE_SCHEMA);
  assert.deepEqual(create, {
    ...create,
    version: 1,
    spec: parseNamespaceSpec(richSpec),
    issued_at: at(0),
    effective_after: at(60),
  });
  assert.equal(set.schema, NAMESPACE_POLICY_SET_SCHEMA);
  assert.ok(set.schema === NAMESPACE_POLICY_SET_SCHEMA && create.schema === NAMESPACE_CREATE_SCHEMA);
  assert.deepEqual(set.spec, { ...create.spec, description: 'renamed' }, 'a partial spec is merged onto the base');
  assert.equal(set.effective_after, at(100), 'effective_after defaults to issued_at');
  assert.ok(cadence.schema === CADENCE_SET_SCHEMA);
  assert.deepEqual(cadence.cadence, { fast: { target: 'btc:signet', every: '10m', confirmations: 1 } });
  assert.ok(schema.schema === SCHEMA_REGISTER_SCHEMA);
  assert.deepEqual(schema.definition, sampleDefinition);
  assert.notEqual(schema.definition, sampleDefinition, 'a copy');
  for (const d of docs()) {
    assert.deepEqual(
      d.signatures?.map((s) => s.signer),
      ['alice', 'bob'],
    );
    assert.deepEqual(parseGovernanceDocument(json(d)), d);
    assert.equal(canonicalize(parseGovernanceDocument(json(d))), canonicalize(d));
  }
});

test('buildGovernanceDocument dispatches on schema; times default to now', () => {
  const before = new Date().toISOString();
  const d = buildGovernanceDocument({ schema: NAMESPACE_CREATE_SCHEMA, namespace: 'fin:clearing' });
  assert.ok(d.schema === NAMESPACE_CREATE_SCHEMA);
  assert.ok(isUtcTimestamp(d.issued_at) && d.issued_at >= before && d.issued_at <= new Date().toISOString());
  assert.equal(d.effective_after, d.issued_at);
  assert.deepEqual(d.spec, defaultNamespaceSpec());
  assert.equal('signatures' in d, false, 'unsigned drafts carry no signatures member');
  const p = buildGovernanceDocument({
    schema: NAMESPACE_POLICY_SET_SCHEMA,
    namespace: 'fin:clearing',
    version: 2,
    spec: { visibility: 'private' },
    effective_after: at(5),
    issued_at: at(1),
  });
  assert.ok(p.schema === NAMESPACE_POLICY_SET_SCHEMA && p.spec.visibility === 'private' && p.effective_after === at(5));
  assert.equal(
    buildGovernanceDocument({ schema: CADENCE_SET_SCHEMA, namespace: 'fin:clearing', version: 2, cadence: {} }).schema,
    CADENCE_SET_SCHEMA,
  );
  assert.equal(
    buildGovernanceDocument({ schema: SCHEMA_REGISTER_SCHEMA, schema_id: 'a@1.0.0', definition: {} }).schema,
    SCHEMA_REGISTER_SCHEMA,
  );
});

test('builders report spec errors as GOVERNANCE_INVALID under /spec or /cadence', () => {
  throwsCode(
    () => buildNamespaceCreate({ namespace: 'dao:x', spec: { limits: { burst: 3 } } }),
    'GOVERNANCE_INVALID',
    '/spec/limits/burst',
  );
  throwsCode(() => buildNamespaceCreate({ namespace: 'sys:x' }), 'GOVERNANCE_INVALID', '/namespace');
  throwsCode(
    () => buildNamespacePolicySet({ namespace: 'dao:x', version: 1, spec: {} }),
    'GOVERNANCE_INVALID',
    '/version',
  );
  throwsCode(
    () =>
      buildCadenceSet({
        namespace: 'dao:x',
        version: 2,
        cadence: { cold: { target: 'btc:mainnet', every: '2*strong', confirmations: 1 } },
      }),
    'GOVERNANCE_INVALID',
    '/cadence/cold/every',
  );
  throwsCode(
    () => buildSchemaRegister({ schema_id: 'Invoice@1.0.0', definition: {} }),
    'GOVERNANCE_INVALID',
    '/schema_id',
  );
  throwsCode(
    () => buildSchemaRegister({ schema_id: 'a@1.0.0', definition: {}, issued_at: 'yesterday' }),
    'GOVERNANCE_INVALID',
    '/issued_at',
  );
});

/** An object nested `depth` levels deep (the outermost counts as 1). */
function nested(depth: number): unknown {
  return JSON.parse('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
}

test('every malformed document is refused with GOVERNANCE_INVALID and the pointer of its fault', () => {
  const [create, set, cadence, schema] = docs().map(json) as [any, any, any, any];
  const without = (d: any, k: string) => Object.fromEntries(Object.entries(d).filter(([m]) => m !== k));
  const spec = create.spec;
  const cases: [unknown, string][] = [
    [null, ''],
    [[create], ''],
    ['namespace.create@1.0.0', ''],
    [{ ...create, schema: 'namespace.create@1.0.1' }, '/schema'],
    [without(create, 'schema'), '/schema'],
    [{ ...create, extra: 1 }, '/extra'],
    [{ ...create, cadence: spec.cadence }, '/cadence'],
    [{ ...schema, namespace: 'dao:x' }, '/namespace'],
    [without(create, 'namespace'), '/namespace'],
    [without(create, 'version'), '/version'],
    [without(create, 'spec'), '/spec'],
    [without(set, 'issued_at'), '/issued_at'],
    [without(cadence, 'effective_after'), '/effective_after'],
    [without(cadence, 'cadence'), '/cadence'],
    [without(schema, 'definition'), '/definition'],
    [without(schema, 'schema_id'), '/schema_id'],
    // namespace ids: the HTTP API's pattern, sys: reserved
    [{ ...create, namespace: 'Dao:vaultmesh' }, '/namespace'],
    [{ ...create, namespace: 'vaultmesh' }, '/namespace'],
    [{ ...set, namespace: 'dao:' }, '/namespace'],
    [{ ...create, namespace: GOVERNANCE_NAMESPACE }, '/namespace'],
    [{ ...set, namespace: 'sys:other' }, '/namespace'],
    [{ ...cadence, namespace: 'sys:governance' }, '/namespace'],
    // versions
    [{ ...create, version: 2 }, '/version'],
    [{ ...create, version: '1' }, '/version'],
    [{ ...set, version: 1 }, '/version'],
    [{ ...set, version: 0 }, '/version'],
    [{ ...set, version: 2.5 }, '/version'],
    [{ ...cadence, version: 2 ** 53 }, '/version'],
    [{ ...cadence, version: null }, '/version'],
    // timestamps
    [{ ...create, issued_at: '2025-01-01T00:00:00+00:00' }, '/issued_at'],
    [{ ...create, issued_at: '2025-02-30T00:00:00Z' }, '/issued_at'],
    [{ ...create, effective_after: '2025-01-01 00:00:00Z' }, '/effective_after'],
    [{ ...create, effective_after: 1735689600 }, '/effective_after'],
    // specs: complete, normalized, valid
    [{ ...create, spec: [] }, '/spec'],
    [{ ...create, spec: without(spec, 'limits') }, '/spec/limits'],
    [{ ...set, spec: without(spec, 'cadence') }, '/spec/cadence'],
    [{ ...create, spec: { ...spec, limits: without(spec.limits, 'burst') } }, '/spec/limits'],
    [{ ...create, spec: { ...spec, limits: without(spec.limits, 'quota_bytes') } }, '/spec/limits'],
    [{ ...create, spec: { ...spec, writers: [{ ...spec.writers[1], scopes: ['read', 'write'] }] } }, '/spec/writers'],
    [{ ...create, spec: { ...spec, writers: [without(spec.writers[1], 'scopes')] } }, '/spec/writers'],
    [{ ...create, spec: { ...spec, extra: true } }, '/spec/extra'],
    [{ ...create, spec: { ...spec, limits: { ...spec.limits, burst: 0 } } }, '/spec/limits/burst'],
    [{ ...create, spec: { ...spec, description: null } }, '/spec/description'],
    [
      { ...set, spec: { ...spec, witness_policy: { min_required: 4, allowlist: spec.witness_policy.allowlist } } },
      '/spec/witness_policy/min_required',
    ],
    [{ ...set, spec: { ...spec, schema_policy: { allow: ['invoice@1.01.0'] } } }, '/spec/schema_policy/allow/0'],
    [{ ...set, spec: { ...spec, writers: [{ id: 'w', ed25519: 'AAAA' }] } }, '/spec/writers/0/ed25519'],
    [
      { ...set, spec: { ...spec, cadence: { fast: { target: 'eip155:0', every: '5m', confirmations: 0 } } } },
      '/spec/cadence/fast/target',
    ],
    // cadences
    [{ ...cadence, cadence: [] }, '/cadence'],
    [
      { ...cadence, cadence: { fast: { target: 'rfc3161:tsa', every: '5m', confirmations: 1 } } },
      '/cadence/fast/confirmations',
    ],
    [{ ...cadence, cadence: { fast: { target: 'btc:mainnet', every: '5m' } } }, '/cadence/fast/confirmations'],
    [{ ...cadence, cadence: { weekly: {} } }, '/cadence/weekly'],
    // schema registrations
    [{ ...schema, schema_id: 'invoice' }, '/schema_id'],
    [{ ...schema, schema_id: 'invoice@1.0' }, '/schema_id'],
    [{ ...schema, schema_id: 'invoice@01.0.0' }, '/schema_id'],
    [{ ...schema, schema_id: 'invoice@1.0.0-rc.1' }, '/schema_id'],
    [{ ...schema, schema_id: 7 }, '/schema_id'],
    [{ ...schema, definition: true }, '/definition'],
    [{ ...schema, definition: [] }, '/definition'],
    [{ ...schema, definition: 'schema' }, '/definition'],
    [{ ...schema, definition: nested(MAX_SCHEMA_DEFINITION_DEPTH + 1) }, '/definition'],
    // signatures
    [{ ...create, signatures: [] }, '/signatures'],
    [{ ...create, signatures: {} }, '/signatures'],
    [{ ...create, signatures: [create.signatures[0], create.signatures[0]] }, '/signatures/1'],
    [{ ...create, signatures: [{ ...create.signatures[0], sig: 'AAAA' }] }, '/signatures/0/sig'],
    [{ ...create, signatures: [{ ...create.signatures[0], signer: 'a b' }] }, '/signatures/0/signer'],
    [{ ...create, signatures: [{ ...create.signatures[0], key: 'x' }] }, '/signatures/0/key'],
    // size and plain JSON
    [{ ...schema, definition: { description: 'x'.repeat(MAX_ENTRY_BYTES) } }, ''],
    [{ ...create, spec: { ...spec, description: '\ud800' } }, ''],
  ];
  for (const [doc, pointer] of cases) {
    throwsCode(() => parseGovernanceDocument(doc), 'GOVERNANCE_INVALID', pointer);
  }
  // Just within the depth bound is fine.
  parseGovernanceDocument({ ...schema, definition: nested(MAX_SCHEMA_DEFINITION_DEPTH) });
  // Not plain JSON at all (a TypeScript caller's undefined).
  throwsCode(() => parseGovernanceDocument({ ...create, issued_at: undefined }), 'GOVERNANCE_INVALID', '');
});

test('spec errors keep their message, re-pointed under the document', () => {
  const create = json(docs()[0]!) as any;
  try {
    parseGovernanceDocument({ ...create, spec: { ...create.spec, limits: { ...create.spec.limits, burst: 0 } } });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.match(e.message, /^\/spec\/limits\/burst: must be an integer/);
    assert.ok(e.cause instanceof RemembrancerError && e.cause.code === 'POLICY_INVALID');
  }
  try {
    const { burst: _burst, ...limits } = create.spec.limits;
    parseGovernanceDocument({ ...create, spec: { ...create.spec, limits } });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.match(
      e.message,
      /^\/spec\/limits: is not in normalized form; governance documents carry it exactly as \{"burst":3,/,
    );
  }
});

test('parsing copies: the result shares nothing with the input, and __proto__ stays data', () => {
  const schema = json(docs()[3]!) as any;
  const input = JSON.parse(
    JSON.stringify({ ...schema, definition: { properties: {} } }).replace(
      '"properties":{}',
      '"properties":{},"__proto__":{"polluted":true}',
    ),
  );
  const d = parseGovernanceDocument(input);
  assert.ok(d.schema === SCHEMA_REGISTER_SCHEMA);
  assert.ok(Object.hasOwn(d.definition, '__proto__'));
  assert.equal(({} as any).polluted, undefined);
  assert.equal(canonicalize(d), canonicalize(input));
  input.definition.properties.x = 1;
  input.signatures[0].signer = 'zed';
  assert.deepEqual(d.definition['properties'], {});
  assert.equal(d.signatures![0]!.signer, 'alice');
});

/** A deep copy of `doc` with the value at a random path replaced (or a member added). */
function mutate(doc: unknown, path: readonly number[], value: unknown, add: boolean): unknown {
  if (doc === null || typeof doc !== 'object') return value;
  if (path.length === 0) return add && !Array.isArray(doc) ? { ...doc, extra: value } : value;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : Object.entries(doc);
  if (entries.length === 0) return value;
  const [key, child] = entries[path[0]! % entries.length]!;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, unknown>;
  copy[key] = mutate(child, path.slice(1), value, add);
  return copy;
}

test('fast-check: a mutated document is accepted unchanged or refused with GOVERNANCE_INVALID', () => {
  const all = docs().map(json);
  const values = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(
      '',
      'dao:x',
      'sys:x',
      '2025-01-01T00:00:00Z',
      'eip155:1',
      '5m',
      'write',
      'invoice@1.0.0',
      0,
      1,
      2,
      3,
      -1,
      null,
      [],
      {},
    ),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(...all),
      fc.array(fc.nat(), { maxLength: 5 }),
      values,
      fc.boolean(),
      (doc, path, value, add) => {
        const m = mutate(doc, path, value, add);
        let parsed: GovernanceDocument;
        try {
          parsed = parseGovernanceDocument(m);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError, String(e));
          assert.equal(e.code, 'GOVERNANCE_INVALID', e.message);
          assert.equal(typeof e.pointer, 'string');
          return;
        }
        // Accepted documents come back byte for byte: what operators signed is what replay sees.
        assert.equal(canonicalize(parsed), canonicalize(m));
        assert.deepEqual(parseGovernanceDocument(parsed), parsed);
      },
    ),
    { numRuns: 600 },
  );
});
