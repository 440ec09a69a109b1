import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, canonicalBytes, canonicalize } from '../../src/index.js';
import { defaultMessagingRules } from '../../src/namespace/messaging-rules.js';
import {
  MAX_DESCRIPTION_LENGTH,
  MAX_WRITERS,
  defaultNamespaceSpec,
  parseNamespaceSpec,
  writerScopes,
  type NamespaceSpec,
} from '../../src/namespace/namespace-spec.js';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const hash = (n: number) => n.toString(16).padStart(2, '0').repeat(32);

const rich = {
  description: 'DAO decisions',
  visibility: 'private',
  witness_policy: {
    min_required: 2,
    allowlist: ['alpha.vaultmesh.local', 'beta.vaultmesh.local', 'gamma.vaultmesh.local'],
  },
  schema_policy: { allow: ['invoice@^1.2.0', '*'] },
  writers: [
    { id: 'writer-1', ed25519: key(1) },
    { id: 'ci@build/main', token_sha256: hash(2), scopes: ['read', 'write'] },
    { id: 'auditor', token_sha256: hash(3), scopes: ['read'] },
  ],
  limits: { max_entry_bytes: 4096, rate_per_second: 2.5, quota_entries: 1000 },
  cadence: {
    fast: { target: 'eip155:1', every: '5m', confirmations: 2 },
    strong: { target: 'btc:mainnet', every: '12*fast', confirmations: 6 },
  },
  messaging: {
    accept_from: ['beta.vaultmesh.local/dao:x', '*/fin:clearing'],
    actions: ['notify', 'invoke'],
    operations: ['record', 'settle.v2'],
    min_witnesses: 1,
  },
};

function refused(value: unknown, pointer: string, base?: NamespaceSpec): void {
  assert.throws(
    () => parseNamespaceSpec(value, base),
    (e: unknown) => {
      assert.ok(e instanceof RemembrancerError, String(e));
      assert.equal(e.code, 'POLICY_INVALID', e.message);
      assert.equal(e.pointer, pointer, `${e.message} (input ${JSON.stringify(value)?.slice(0, 160)})`);
      return true;
    },
    `accepted ${JSON.stringify(value)?.slice(0, 160)}`,
  );
}

test('an empty spec is the default spec, and defaults are fresh objects', () => {
  assert.deepEqual(parseNamespaceSpec({}), defaultNamespaceSpec());
  const a = defaultNamespaceSpec();
  a.writers.push({ id: 'x', ed25519: key(1) });
  a.schema_policy.allow.length = 0;
  assert.deepEqual(defaultNamespaceSpec().writers, []);
  assert.deepEqual(defaultNamespaceSpec().schema_policy.allow, ['*']);
  assert.deepEqual(defaultNamespaceSpec().limits, {
    max_entry_bytes: 65_535,
    rate_per_second: null,
    burst: null,
    quota_entries: null,
    quota_bytes: null,
  });
});

test('a spec comes back complete and normalized', () => {
  const spec = parseNamespaceSpec(rich);
  assert.deepEqual(spec, {
    ...rich,
    writers: [
      { id: 'writer-1', ed25519: key(1) },
      { id: 'ci@build/main', token_sha256: hash(2), scopes: ['write', 'read'] },
      { id: 'auditor', token_sha256: hash(3), scopes: ['read'] },
    ],
    // A rate alone gets the smallest bucket that passes it.
    limits: { max_entry_bytes: 4096, rate_per_second: 2.5, burst: 3, quota_entries: 1000, quota_bytes: null },
    // Actions come back in MESSAGE_ACTIONS order; the other lists keep theirs.
    messaging: { ...rich.messaging, actions: ['invoke', 'notify'] },
  });
  // Normalization is a fixpoint, and shares nothing with its input.
  assert.deepEqual(parseNamespaceSpec(JSON.parse(JSON.stringify(spec))), spec);
  assert.deepEqual(parseNamespaceSpec(spec, defaultNamespaceSpec()), spec);
  const input = structuredClone(rich);
  const out = parseNamespaceSpec(input);
  input.writers[0]!.id = 'changed';
  input.witness_policy.allowlist.pop();
  assert.equal(out.writers[0]!.id, 'writer-1');
  assert.equal(out.witness_policy.allowlist.length, 3);
});

test('messaging is replaced whole, kept from the base when absent, and defaults to accepting nothing', () => {
  assert.deepEqual(defaultNamespaceSpec().messaging, {
    accept_from: [],
    actions: ['invoke', 'query', 'notify'],
    operations: ['*'],
    min_witnesses: 0,
  });
  const base = parseNamespaceSpec(rich);
  assert.deepEqual(parseNamespaceSpec({ description: 'x' }, base).messaging, base.messaging);
  assert.deepEqual(parseNamespaceSpec({ messaging: undefined }, base).messaging, base.messaging);
  // Members absent from a given messaging take their defaults, not the base's: it is replaced whole.
  assert.deepEqual(parseNamespaceSpec({ messaging: { accept_from: ['*/*'] } }, base).messaging, {
    ...defaultMessagingRules(),
    accept_from: ['*/*'],
  });
  assert.deepEqual(parseNamespaceSpec({ messaging: {} }, base).messaging, defaultMessagingRules());
  // A base recorded before messaging existed (a governance document of then) gives the default.
  const { messaging: _, ...recorded } = base;
  assert.deepEqual(parseNamespaceSpec({ description: 'y' }, recorded).messaging, defaultMessagingRules());
  // The base's rules are copied, never shared.
  const changed = parseNamespaceSpec({}, base);
  changed.messaging.accept_from.push('a/b:c');
  assert.deepEqual(base.messaging.accept_from, rich.messaging.accept_from);
});

test('token writers default to the write scope; key writers only write', () => {
  const spec = parseNamespaceSpec({
    writers: [
      { id: 't', token_sha256: hash(1) },
      { id: 'k', ed25519: key(2) },
    ],
  });
  assert.deepEqual(spec.writers[0], { id: 't', token_sha256: hash(1), scopes: ['write'] });
  assert.deepEqual(writerScopes(spec.writers[0]), ['write']);
  assert.deepEqual(writerScopes(spec.writers[1]!), ['write']);
  assert.deepEqual(writerScopes({ id: 'r', token_sha256: hash(3), scopes: ['read'] }), ['read']);
});

test('members absent from a change keep the base value; limits merge member by member', () => {
  const base = parseNamespaceSpec(rich);
  const changed = parseNamespaceSpec({ description: 'renamed', limits: { quota_bytes: 1 << 20 } }, base);
  assert.deepEqual(changed, { ...base, description: 'renamed', limits: { ...base.limits, quota_bytes: 1 << 20 } });
  // Arrays and objects other than limits are replaced whole.
  assert.deepEqual(parseNamespaceSpec({ writers: [] }, base).writers, []);
  assert.deepEqual(parseNamespaceSpec({ cadence: {} }, base).cadence, {});
  assert.deepEqual(parseNamespaceSpec({ witness_policy: {} }, base).witness_policy, { min_required: 0, allowlist: [] });
  // A new rate keeps the bucket the namespace had; clearing the rate clears the bucket.
  assert.equal(parseNamespaceSpec({ limits: { rate_per_second: 100 } }, base).limits.burst, 3);
  assert.deepEqual(parseNamespaceSpec({ limits: { rate_per_second: null } }, base).limits, {
    ...base.limits,
    rate_per_second: null,
    burst: null,
  });
  assert.equal(parseNamespaceSpec({ limits: { rate_per_second: 0.1 } }).limits.burst, 1);
  assert.equal(parseNamespaceSpec({ limits: { rate_per_second: 7, burst: 70 } }).limits.burst, 70);
  // The base itself is not modified.
  assert.deepEqual(base, parseNamespaceSpec(rich));
});

test('null is an error, not a request for the default; undefined means absent', () => {
  refused({ description: null }, '/description');
  refused({ visibility: null }, '/visibility');
  refused({ witness_policy: { allowlist: null } }, '/witness_policy/allowlist');
  refused({ witness_policy: { min_required: null } }, '/witness_policy/min_required');
  refused({ writers: [{ id: 't', token_sha256: hash(1), scopes: null }] }, '/writers/0/scopes');
  const spec = parseNamespaceSpec({
    description: undefined,
    visibility: undefined,
    witness_policy: { min_required: undefined },
    writers: [{ id: 't', token_sha256: hash(1), scopes: undefined }],
  });
  assert.equal(spec.description, '');
  assert.equal(spec.visibility, 'public');
  assert.deepEqual(spec.writers[0], { id: 't', token_sha256: hash(1), scopes: ['write'] });
});

test('the description is bounded in characters and must be encodable as JSON text', () => {
  assert.equal(
    parseNamespaceSpec({ description: '🦀'.repeat(MAX_DESCRIPTION_LENGTH) }).description.length,
    2 * MAX_DESCRIPTION_LENGTH,
  );
  refused({ description: 'x'.repeat(MAX_DESCRIPTION_LENGTH + 1) }, '/description');
  refused({ description: 42 }, '/description');
  refused({ description: 'broken \ud800 surrogate' }, '/description');
  refused({ description: '\udc00' }, '/description');
});

test('every malformed member is refused with its pointer', () => {
  const w = (writer: unknown) => ({ writers: [writer] });
  const cases: [unknown, string][] = [
    [null, ''],
    [[], ''],
    ['spec', ''],
    [{ extra: 1 }, '/extra'],
    [{ 'a/b': 1 }, '/a~1b'],
    [{ visibility: 'secret' }, '/visibility'],
    [{ witness_policy: [] }, '/witness_policy'],
    [
      { witness_policy: { min_required: 1, allowlist: ['alpha.vaultmesh.local'], quorum: 1 } },
      '/witness_policy/quorum',
    ],
    [{ witness_policy: { allowlist: 'alpha.vaultmesh.local' } }, '/witness_policy/allowlist'],
    [{ witness_policy: { allowlist: ['Alpha'] } }, '/witness_policy/allowlist/0'],
    [{ witness_policy: { allowlist: ['a.b', 'a.b'] } }, '/witness_policy/allowlist/1'],
    [{ witness_policy: { min_required: 2, allowlist: ['a.b'] } }, '/witness_policy/min_required'],
    [{ witness_policy: { min_required: -1, allowlist: [] } }, '/witness_policy/min_required'],
    [{ witness_policy: { min_required: 0.5, allowlist: ['a.b'] } }, '/witness_policy/min_required'],
    [{ witness_policy: { allowlist: Array.from({ length: 257 }, (_, i) => `n${i}`) } }, '/witness_policy/allowlist'],
    [{ schema_policy: {} }, '/schema_policy/allow'],
    [{ schema_policy: { allow: ['*'], deny: [] } }, '/schema_policy/deny'],
    [{ schema_policy: { allow: ['invoice@1.01.0'] } }, '/schema_policy/allow/0'],
    [{ schema_policy: { allow: ['*', '*'] } }, '/schema_policy/allow/1'],
    [{ writers: {} }, '/writers'],
    [{ writers: Array.from({ length: MAX_WRITERS + 1 }, (_, i) => ({ id: `w${i}`, ed25519: key(i) })) }, '/writers'],
    [w('writer'), '/writers/0'],
    [w({ id: 'w' }), '/writers/0'],
    [w({ id: 'bad id', ed25519: key(1) }), '/writers/0/id'],
    [w({ id: '-w', ed25519: key(1) }), '/writers/0/id'],
    [w({ id: 'w'.repeat(129), ed25519: key(1) }), '/writers/0/id'],
    [w({ id: 'w', ed25519: Buffer.alloc(31).toString('base64') }), '/writers/0/ed25519'],
    [w({ id: 'w', ed25519: key(1).slice(0, -1) }), '/writers/0/ed25519'],
    [w({ id: 'w', ed25519: key(1).replace(/=$/, 'B') }), '/writers/0/ed25519'],
    [w({ id: 'w', ed25519: 7 }), '/writers/0/ed25519'],
    [w({ id: 'w', ed25519: key(1), token_sha256: hash(1) }), '/writers/0/token_sha256'],
    [w({ id: 'w', ed25519: key(1), scopes: ['write'] }), '/writers/0/scopes'],
    [w({ id: 'w', token_sha256: hash(0xab).toUpperCase() }), '/writers/0/token_sha256'],
    [w({ id: 'w', token_sha256: hash(1).slice(1) }), '/writers/0/token_sha256'],
    [w({ id: 'w', token_sha256: hash(1), scopes: [] }), '/writers/0/scopes'],
    [w({ id: 'w', token_sha256: hash(1), scopes: ['admin'] }), '/writers/0/scopes/0'],
    [w({ id: 'w', token_sha256: hash(1), scopes: ['read', 'read'] }), '/writers/0/scopes'],
    [w({ id: 'w', token_sha256: hash(1), scopes: ['read', 'write', 'read'] }), '/writers/0/scopes'],
    [
      {
        writers: [
          { id: 'w', ed25519: key(1) },
          { id: 'w', ed25519: key(2) },
        ],
      },
      '/writers/1',
    ],
    [
      {
        writers: [
          { id: 'w', ed25519: key(1) },
          { id: 'w', token_sha256: hash(2) },
        ],
      },
      '/writers/1',
    ],
    [
      {
        writers: [
          { id: 'a', ed25519: key(1) },
          { id: 'b', ed25519: key(1) },
        ],
      },
      '/writers/1',
    ],
    [
      {
        writers: [
          { id: 'a', token_sha256: hash(1) },
          { id: 'b', token_sha256: hash(1), scopes: ['read'] },
        ],
      },
      '/writers/1',
    ],
    [{ limits: 5 }, '/limits'],
    [{ limits: { max_entries: 5 } }, '/limits/max_entries'],
    [{ limits: { max_entry_bytes: 1 } }, '/limits/max_entry_bytes'],
    [{ limits: { max_entry_bytes: 65_536 } }, '/limits/max_entry_bytes'],
    [{ limits: { max_entry_bytes: null } }, '/limits/max_entry_bytes'],
    [{ limits: { rate_per_second: 0 } }, '/limits/rate_per_second'],
    [{ limits: { rate_per_second: -1 } }, '/limits/rate_per_second'],
    [{ limits: { rate_per_second: '5' } }, '/limits/rate_per_second'],
    [{ limits: { rate_per_second: 1_000_001 } }, '/limits/rate_per_second'],
    [{ limits: { rate_per_second: Number.POSITIVE_INFINITY } }, '/limits/rate_per_second'],
    [{ limits: { burst: 5 } }, '/limits/burst'],
    [{ limits: { rate_per_second: 5, burst: 0 } }, '/limits/burst'],
    [{ limits: { rate_per_second: 5, burst: 1.5 } }, '/limits/burst'],
    [{ limits: { quota_entries: 0 } }, '/limits/quota_entries'],
    [{ limits: { quota_bytes: 2 ** 53 } }, '/limits/quota_bytes'],
    [{ limits: { quota_bytes: '1' } }, '/limits/quota_bytes'],
    [{ cadence: [] }, '/cadence'],
    [{ cadence: { fast: { target: 'eip155:1', every: '5x', confirmations: 1 } } }, '/cadence/fast/every'],
    [{ cadence: { strong: { target: 'eip155:1', every: '2*fast', confirmations: 1 } } }, '/cadence/strong/every'],
    [{ cadence: { hourly: {} } }, '/cadence/hourly'],
    [{ messaging: null }, '/messaging'],
    [{ messaging: { accept_from: ['beta'] } }, '/messaging/accept_from/0'],
    [{ messaging: { accept_from: ['*/*'], deny: [] } }, '/messaging/deny'],
    [{ messaging: { actions: [] } }, '/messaging/actions'],
    [{ messaging: { operations: ['Record'] } }, '/messaging/operations/0'],
    [{ messaging: { min_witnesses: 100 } }, '/messaging/min_witnesses'],
  ];
  for (const [value, pointer] of cases) refused(value, pointer);
  // The same rules hold when a base supplies the rest.
  const base = parseNamespaceSpec(rich);
  refused({ limits: { burst: 5, rate_per_second: null } }, '/limits/burst', base);
  refused({ witness_policy: { min_required: 1 } }, '/witness_policy/min_required', base);
});

test('error messages name the member by its pointer', () => {
  try {
    parseNamespaceSpec({ limits: { rate_per_second: 5, burst: 0 } });
    assert.fail('accepted');
  } catch (e) {
    assert.ok(e instanceof RemembrancerError);
    assert.match(e.message, /^\/limits\/burst: /);
  }
});

/** Resolves an RFC 6901 pointer against `doc`; undefined where it leaves the document. */
function resolve(doc: unknown, pointer: string): { parent: unknown; found: boolean } {
  if (pointer === '') return { parent: undefined, found: true };
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length; i++) {
    if (typeof cur !== 'object' || cur === null) return { parent: undefined, found: false };
    const next = (cur as Record<string, unknown>)[tokens[i]!];
    if (i === tokens.length - 1) return { parent: cur, found: Object.hasOwn(cur, tokens[i]!) };
    if (!Object.hasOwn(cur, tokens[i]!)) return { parent: undefined, found: false };
    cur = next;
  }
  return { parent: cur, found: true };
}

/** A deep copy of `doc` with the value at a random path replaced (or a member added / removed). */
function mutate(doc: unknown, path: readonly number[], value: unknown, op: 'set' | 'add' | 'delete'): unknown {
  if (doc === null || typeof doc !== 'object') return value;
  const entries = Array.isArray(doc) ? doc.map((v, i) => [i, v] as const) : Object.entries(doc);
  if (path.length === 0 || entries.length === 0) {
    if (op === 'add' && !Array.isArray(doc)) return { ...doc, extra: value };
    if (op === 'delete' && entries.length > 0 && !Array.isArray(doc)) return Object.fromEntries(entries.slice(1));
    return value;
  }
  const [k, child] = entries[path[0]! % entries.length]!;
  const copy = (Array.isArray(doc) ? [...doc] : { ...doc }) as Record<string | number, unknown>;
  copy[k] = mutate(child, path.slice(1), value, op);
  return copy;
}

const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const values = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.string({ unit: anyUnit, maxLength: 8 }),
  fc.constantFrom(
    '',
    '*',
    'alpha.vaultmesh.local',
    'write',
    'read',
    'public',
    'eip155:1',
    '5m',
    '2*fast',
    '*/*',
    'notify',
    'record',
    key(5),
    hash(5),
    0,
    1,
    2,
    -1,
    1.5,
    null,
    [],
    {},
  ),
);

test('fast-check: mutated specs are accepted as fixpoints or refused with POLICY_INVALID at an existing place', () => {
  fc.assert(
    fc.property(
      fc.array(fc.nat(), { maxLength: 5 }),
      values,
      fc.constantFrom('set', 'add', 'delete') as fc.Arbitrary<'set' | 'add' | 'delete'>,
      (path, value, op) => {
        const input = mutate(rich, path, value, op);
        let spec: NamespaceSpec;
        try {
          spec = parseNamespaceSpec(input);
        } catch (e) {
          assert.ok(e instanceof RemembrancerError, String(e));
          assert.equal(e.code, 'POLICY_INVALID', e.message);
          assert.equal(typeof e.pointer, 'string');
          // The pointer names a member of the input, or a required member of an object that exists.
          const { parent, found } = resolve(input, e.pointer!);
          assert.ok(
            found || (typeof parent === 'object' && parent !== null),
            `${e.pointer} is nowhere in ${JSON.stringify(input)}`,
          );
          return;
        }
        // Whatever is accepted can be stored and signed (JCS) and parses to itself.
        const bytes = canonicalBytes(spec);
        const again = parseNamespaceSpec(JSON.parse(canonicalize(spec)));
        assert.deepEqual(canonicalBytes(again), bytes);
        assert.deepEqual(parseNamespaceSpec(spec, defaultNamespaceSpec()), spec);
      },
    ),
    { numRuns: 600 },
  );
});

test('fast-check: arbitrary JSON never crashes the parser', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.jsonValue({ maxDepth: 4 }),
        fc.dictionary(
          fc.constantFrom(
            'description',
            'visibility',
            'witness_policy',
            'schema_policy',
            'writers',
            'limits',
            'cadence',
            'messaging',
          ),
          fc.jsonValue({ maxDepth: 3 }),
        ),
      ),
      (v) => {
        try {
          canonicalBytes(parseNamespaceSpec(v));
        } catch (e) {
          assert.ok(e instanceof RemembrancerError && e.code === 'POLICY_INVALID', String(e));
        }
      },
    ),
    { numRuns: 400 },
  );
});
