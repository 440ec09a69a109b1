import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { RemembrancerError, isSchemaId, type ErrorCode } from '@vaultmesh/core';
import { SCHEMA_MAX_BYTES, SchemaRegistry, defaultSchemaDir } from '../../src/namespaces/schema-registry.js';

const INVOICE = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://vaultmesh.dev/schemas/invoice@1.2.0.json',
  title: 'invoice@1',
  type: 'object',
  required: ['amount', 'customer'],
  additionalProperties: false,
  properties: {
    amount: { type: 'integer', minimum: 0 },
    customer: { type: 'string', minLength: 1 },
    'a/b~c': { type: 'string' },
    lines: {
      type: 'array',
      items: {
        type: 'object',
        required: ['qty'],
        additionalProperties: false,
        properties: { qty: { type: 'integer' } },
      },
    },
    note: { if: { type: 'string' }, then: { type: 'string', maxLength: 5 } },
  },
};

function registry(): SchemaRegistry {
  const r = new SchemaRegistry();
  r.register('invoice@1.2.0', INVOICE, 'governance');
  return r;
}

function rejects(fn: () => unknown, code: ErrorCode, pointer?: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof RemembrancerError, String(e));
    assert.equal(e.code, code, e.message);
    assert.equal(e.pointer, pointer, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

function withDir(files: Record<string, string>, fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'vm-schemas-'));
  try {
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('loads the repository schemas/ directory', () => {
  const dir = defaultSchemaDir();
  const r = SchemaRegistry.load();
  // Other work adds schemas here, so only the ones this test relies on are named.
  for (const id of ['federation.registry.set@1.0.0', 'federation.equivocation@1.0.0', 'vaultmesh.receipt@1.0.0']) {
    assert.ok(r.has(id), id);
    assert.equal(r.source(id), 'file');
  }
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length));
  assert.deepEqual([...r.ids()].sort(), [...files].sort());
  for (const id of r.ids()) assert.ok(isSchemaId(id), id);
  const schema = r.get('federation.registry.set@1.0.0') as { $id: string };
  assert.equal(schema.$id, 'https://vaultmesh.dev/schemas/federation.registry.set@1.0.0.json');
  assert.ok(Object.isFrozen(schema));
  assert.deepEqual(r.versionsOf('federation.registry.set'), [{ major: 1, minor: 0, patch: 0 }]);
  assert.deepEqual(r.versionsOf('nothing'), []);
  assert.equal(r.get('nothing@1.0.0'), undefined);
});

test('load skips non-JSON files and refuses JSON files that are not what their name says', () => {
  const ok = JSON.stringify({ $id: 'https://x.test/s/memo@1.0.0.json', title: 'memo@1', type: 'object' });
  withDir(
    {
      'README.md': '# schemas',
      'memo@1.0.0.json': ok,
      'memo@1.1.0.json': JSON.stringify({ type: 'object' }),
      'notes.txt': 'x',
    },
    (dir) => {
      const r = SchemaRegistry.load(dir);
      assert.deepEqual(r.ids(), ['memo@1.0.0', 'memo@1.1.0']);
      assert.deepEqual(r.versionsOf('memo'), [
        { major: 1, minor: 0, patch: 0 },
        { major: 1, minor: 1, patch: 0 },
      ]);
    },
  );
  const bad: Record<string, string>[] = [
    { 'memo@1.0.1.json': ok }, // $id names memo@1.0.0
    { 'other@1.0.0.json': JSON.stringify({ title: 'memo@1', type: 'object' }) },
    { 'memo@1.0.json': JSON.stringify({ type: 'object' }) },
    { 'memo@1.0.0.json': '{ not json' },
    { 'memo@1.0.0.json': JSON.stringify({ type: 'object', colour: 'red' }) },
  ];
  for (const files of bad) withDir(files, (dir) => rejects(() => SchemaRegistry.load(dir), 'POLICY_INVALID'));
});

test('register: the same schema again is a no-op, a different one under the same id is refused', () => {
  const r = registry();
  const reordered = Object.fromEntries(Object.entries(INVOICE).reverse());
  r.register('invoice@1.2.0', reordered, 'file');
  assert.equal(r.source('invoice@1.2.0'), 'governance');
  rejects(
    () => r.register('invoice@1.2.0', { ...INVOICE, required: ['amount'] }, 'governance'),
    'POLICY_INVALID',
    undefined,
    /different schema/,
  );
  assert.deepEqual(r.get('invoice@1.2.0'), INVOICE);
});

test('register keeps its own frozen copy', () => {
  const schema = structuredClone(INVOICE);
  const r = new SchemaRegistry();
  r.register('invoice@1.2.0', schema, 'governance');
  schema.properties.amount.type = 'string';
  assert.equal((r.get('invoice@1.2.0') as typeof INVOICE).properties.amount.type, 'integer');
  r.validateEntry({ schema: 'invoice@1.2.0', amount: 1, customer: 'c' }, ['*']);
});

test('register refuses schemas that are malformed, too big, not strict or claim another identity', () => {
  const r = new SchemaRegistry();
  const deep: Record<string, unknown> = { type: 'object' };
  let at = deep;
  for (let i = 0; i < 100; i++) {
    const next: Record<string, unknown> = { type: 'object' };
    at['properties'] = { x: next };
    at = next;
  }
  const huge = { type: 'object', description: 'x'.repeat(SCHEMA_MAX_BYTES) };
  const cases: [string, unknown, RegExp][] = [
    ['invoice@1.01.0', { type: 'object' }, /leading zeros/],
    ['Invoice@1.0.0', { type: 'object' }, /name/],
    ['x@1.0.0', null, /JSON object/],
    ['x@1.0.0', [], /JSON object/],
    ['x@1.0.0', { type: 'object', n: undefined }, /plain JSON/],
    ['x@1.0.0', huge, /bytes/],
    ['x@1.0.0', deep, /deeper/],
    ['x@1.0.0', { type: 'object', colour: 'red' }, /unknown keyword/], // strict mode: unknown keywords
    ['x@1.0.0', { type: 'object', properties: { d: { type: 'string', format: 'date-time' } } }, /unknown format/],
    ['x@1.0.0', { properties: { n: { minimum: 1 } } }, /strict/], // strictTypes: minimum without a number type
    ['x@1.0.0', { type: 'object', required: ['a'] }, /strict/], // strictRequired
    ['x@1.0.0', { type: 'object', properties: { a: { $ref: '#/$defs/missing' } } }, /compile/],
    ['x@1.0.0', { type: 'object', properties: { a: { $ref: 'https://elsewhere.test/s.json' } } }, /compile/], // never fetched
    ['x@1.0.0', { $schema: 'http://json-schema.org/draft-07/schema#', type: 'object' }, /compile/],
    ['x@1.0.0', { type: 'nonsense' }, /compile/],
    ['x@1.0.0', { $async: true, type: 'object' }, /\$async/],
    ['x@1.0.0', { $id: 'https://x.test/y@1.0.0.json', type: 'object' }, /another schema/],
    ['x@1.0.0', { $id: 'https://x.test/x@1.0.1.json', type: 'object' }, /another schema/],
    ['x@1.0.0', { $id: 5, type: 'object' }, /\$id/],
    ['x@1.0.0', { title: 'y@1', type: 'object' }, /another schema/],
  ];
  for (const [id, schema, message] of cases) {
    rejects(() => r.register(id, schema as object, 'governance'), 'POLICY_INVALID', undefined, message);
  }
  assert.deepEqual(r.ids(), []);
  // Nothing half-registered is left behind: the same $id compiles once its schema is fixed.
  const id = 'https://x.test/fixed@1.0.0.json';
  rejects(
    () =>
      r.register('fixed@1.0.0', { $id: id, type: 'object', properties: { a: { $ref: '#/$defs/b' } } }, 'governance'),
    'POLICY_INVALID',
  );
  r.register(
    'fixed@1.0.0',
    { $id: id, type: 'object', properties: { a: { $ref: '#/$defs/b' } }, $defs: { b: { type: 'string' } } },
    'governance',
  );
  r.validateEntry({ schema: 'fixed@1.0.0', a: 'ok' }, ['*']);
  rejects(() => r.validateEntry({ schema: 'fixed@1.0.0', a: 1 }, ['*']), 'SCHEMA_VALIDATION_FAILED', '/a');
  // A title that is free text (not name@…) is fine.
  r.register('titled@1.0.0', { title: 'An invoice', type: 'object' }, 'governance');
});

test('a registered schema can $ref another by its $id, also after a failed registration', () => {
  const r = new SchemaRegistry();
  r.register('money@1.0.0', { $id: 'https://x.test/money@1.0.0.json', type: 'integer', minimum: 0 }, 'file');
  rejects(() => r.register('bad@1.0.0', { type: 'object', colour: 1 }, 'governance'), 'POLICY_INVALID');
  r.register(
    'order@1.0.0',
    { type: 'object', properties: { total: { $ref: 'https://x.test/money@1.0.0.json' } } },
    'governance',
  );
  rejects(
    () => r.validateEntry({ schema: 'order@1.0.0', total: -1 }, ['*']),
    'SCHEMA_VALIDATION_FAILED',
    '/total',
    /must be >= 0/,
  );
  r.validateEntry({ schema: 'order@1.0.0', total: 3 }, ['*']);
});

test('validateEntry: a matching entry passes; schema and signatures are the envelope, not data', () => {
  const r = registry();
  const entry = {
    schema: 'invoice@1.2.0',
    amount: 10,
    customer: 'acme',
    lines: [{ qty: 1 }],
    signatures: [{ key: 'k', sig: 's' }],
  };
  const before = structuredClone(entry);
  for (const allow of [
    ['invoice@^1.0.0'],
    ['invoice@~1.2.0'],
    ['invoice@1.2.0'],
    ['invoice@1.2.x'],
    ['*'],
    ['other@1.0.0', 'invoice@>=1.0.0 <2.0.0'],
  ]) {
    r.validateEntry(entry, allow);
  }
  assert.deepEqual(entry, before, 'the entry is not modified');
});

test('validateEntry: "*" accepts entries without a schema, and still validates those that name one', () => {
  const r = registry();
  r.validateEntry({ anything: [1, 2, 3] }, ['*']);
  r.validateEntry({}, ['invoice@1.0.0', '*']);
  rejects(
    () => r.validateEntry({ schema: 'invoice@1.2.0', amount: 'ten', customer: 'c' }, ['*']),
    'SCHEMA_VALIDATION_FAILED',
    '/amount',
  );
  rejects(() => r.validateEntry({ schema: 'invoice@9.9.9' }, ['*']), 'SCHEMA_UNKNOWN', '/schema', /not registered/);
  rejects(() => r.validateEntry({ schema: 'invoice@1.01.0' }, ['*']), 'SCHEMA_NOT_ALLOWED', '/schema', /malformed/);
});

test('validateEntry: every rejection has its code and pointer', () => {
  const r = registry();
  const allow = ['invoice@^1.0.0'];
  const ok = { schema: 'invoice@1.2.0', amount: 1, customer: 'c' };
  rejects(() => r.validateEntry({ amount: 1, customer: 'c' }, allow), 'SCHEMA_REQUIRED', '/schema');
  rejects(() => r.validateEntry({ amount: 1 }, []), 'SCHEMA_REQUIRED', '/schema');
  for (const bad of [
    5,
    null,
    '',
    'invoice',
    'invoice@1.2',
    'invoice@v1.2.0',
    'invoice@^1.0.0',
    'invoice@1.2.0-rc.1',
    ['invoice@1.2.0'],
    { name: 'invoice' },
  ]) {
    rejects(
      () => r.validateEntry({ ...ok, schema: bad }, allow),
      'SCHEMA_NOT_ALLOWED',
      '/schema',
      /malformed schema id/,
    );
  }
  rejects(
    () => r.validateEntry({ ...ok, schema: 'invoice@2.0.0' }, allow),
    'SCHEMA_NOT_ALLOWED',
    '/schema',
    /not allowed/,
  );
  rejects(() => r.validateEntry({ ...ok, schema: 'memo@1.0.0' }, allow), 'SCHEMA_NOT_ALLOWED', '/schema');
  rejects(() => r.validateEntry(ok, []), 'SCHEMA_NOT_ALLOWED', '/schema');
  rejects(() => r.validateEntry({ ...ok, schema: 'invoice@1.3.0' }, allow), 'SCHEMA_UNKNOWN', '/schema');

  const failed = (entry: Record<string, unknown>, pointer: string, message: RegExp) =>
    rejects(() => r.validateEntry({ ...ok, ...entry }, allow), 'SCHEMA_VALIDATION_FAILED', pointer, message);
  failed({ amount: 1.5 }, '/amount', /^entry does not match invoice@1\.2\.0 at \/amount: must be integer$/);
  failed({ amount: -1 }, '/amount', /must be >= 0/);
  failed({ customer: undefined }, '/customer', /must have required property 'customer'/); // required: the missing member
  failed({ extra: true }, '/extra', /must NOT have additional properties/); // the member that is not allowed
  failed({ 'a/b~c': 1 }, '/a~1b~0c', /must be string/); // RFC 6901 escaping
  failed({ 'x/y': 1 }, '/x~1y', /additional/);
  failed({ lines: [{ qty: 1 }, { qty: 'x' }] }, '/lines/1/qty', /must be integer/);
  failed({ lines: [{}] }, '/lines/0/qty', /required property 'qty'/);
  failed({ note: 'too long' }, '/note', /must NOT have more than 5 characters/); // the `then` failure, not "must match then"
  const withoutCustomer: Record<string, unknown> = { schema: 'invoice@1.2.0', amount: 1 };
  rejects(() => r.validateEntry(withoutCustomer, allow), 'SCHEMA_VALIDATION_FAILED', '/customer');
});

test('issue 4: invoice@1.0.x allows invoice@1.0.0 but not invoice@1.01.0', () => {
  const r = new SchemaRegistry();
  r.register('invoice@1.0.0', { type: 'object' }, 'governance');
  r.register('invoice@1.1.0', { type: 'object' }, 'governance');
  r.validateEntry({ schema: 'invoice@1.0.0' }, ['invoice@1.0.x']);
  rejects(
    () => r.validateEntry({ schema: 'invoice@1.01.0' }, ['invoice@1.0.x']),
    'SCHEMA_NOT_ALLOWED',
    '/schema',
    /malformed/,
  );
  rejects(
    () => r.validateEntry({ schema: 'invoice@1.1.0' }, ['invoice@1.0.x']),
    'SCHEMA_NOT_ALLOWED',
    '/schema',
    /not allowed/,
  );
});

test('whole-document failures point at the root', () => {
  const r = new SchemaRegistry();
  r.register('pair@1.0.0', { type: 'object', minProperties: 2 }, 'governance');
  rejects(
    () => r.validateEntry({ schema: 'pair@1.0.0', a: 1 }, ['*']),
    'SCHEMA_VALIDATION_FAILED',
    '',
    /^entry does not match pair@1\.0\.0: must NOT have fewer than 2 properties$/,
  );
  r.validateEntry({ schema: 'pair@1.0.0', a: 1, b: 2 }, ['*']);
});

/** Resolves an RFC 6901 pointer; undefined when a step is missing. */
function resolve(doc: unknown, pointer: string): unknown {
  if (pointer === '') return doc;
  let at: unknown = doc;
  for (const raw of pointer.slice(1).split('/')) {
    const token = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, token)) return undefined;
    at = (at as Record<string, unknown>)[token];
  }
  return at;
}

test('property: arbitrary entries get a SCHEMA_* error whose pointer leads into the entry', () => {
  const r = registry();
  const codes = new Set(['SCHEMA_REQUIRED', 'SCHEMA_UNKNOWN', 'SCHEMA_NOT_ALLOWED', 'SCHEMA_VALIDATION_FAILED']);
  const key = fc.oneof(
    fc.constantFrom('amount', 'customer', 'lines', 'qty', 'note', 'a/b~c', 'schema', 'signatures', '__proto__', ''),
    fc.string({ maxLength: 4 }),
  );
  const value = fc.letrec((tie) => ({
    v: fc.oneof(
      { depthSize: 'small' },
      fc.jsonValue({ maxDepth: 1 }),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(key, tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const schema = fc.constantFrom(undefined, 'invoice@1.2.0', 'invoice@1.3.0', 'invoice@1.02.0', 'memo@1.0.0', 5);
  fc.assert(
    fc.property(
      fc.dictionary(key, value, { maxKeys: 6 }),
      schema,
      fc.constantFrom(['*'], ['invoice@^1.0.0'], []),
      (entry, id, allow) => {
        const e: Record<string, unknown> = JSON.parse(JSON.stringify(entry));
        if (id !== undefined) e['schema'] = id;
        try {
          r.validateEntry(e, allow);
        } catch (err) {
          assert.ok(err instanceof RemembrancerError && codes.has(err.code), String(err));
          assert.ok(err.pointer !== undefined);
          if (err.code !== 'SCHEMA_VALIDATION_FAILED') {
            assert.equal(err.pointer, '/schema');
          } else {
            // The failing member, or (for a missing one) its parent, is in the entry as sent.
            const parent = err.pointer.slice(0, err.pointer.lastIndexOf('/'));
            assert.ok(resolve(e, err.pointer) !== undefined || resolve(e, parent) !== undefined, err.pointer);
          }
        }
      },
    ),
    { numRuns: 300 },
  );
});

test('check vets a schema like register would, without registering it', () => {
  const r = registry();
  r.check('memo@1.0.0', { type: 'object', properties: { text: { type: 'string' } } });
  assert.equal(r.has('memo@1.0.0'), false);
  r.check('invoice@1.2.0', structuredClone(INVOICE)); // the same bytes as held: fine
  rejects(() => r.check('invoice@1.2.0', { type: 'object' }), 'POLICY_INVALID', undefined, /different schema/);
  rejects(
    () => r.check('memo@1.0.0', { type: 'object', colour: 'red' }),
    'POLICY_INVALID',
    undefined,
    /unknown keyword/,
  );
  rejects(() => r.check('memo@1.0.0', 'not a schema'), 'POLICY_INVALID');
  rejects(
    () => r.check('memo@1.0.0', { $id: INVOICE.$id, type: 'object' }),
    'POLICY_INVALID',
    undefined,
    /another schema/,
  );
  // A check may $ref what is registered; and it leaves nothing behind for the real registration.
  const withRef = { $id: 'https://x.test/memo@1.0.0.json', type: 'object', properties: { i: { $ref: INVOICE.$id } } };
  r.check('memo@1.0.0', withRef);
  r.register('memo@1.0.0', withRef, 'governance');
  rejects(
    () => r.validateEntry({ schema: 'memo@1.0.0', i: { amount: 1 } }, ['*']),
    'SCHEMA_VALIDATION_FAILED',
    '/i/customer',
  );
});

test('validateDocument checks a whole document, envelope included', () => {
  const r = new SchemaRegistry();
  r.register(
    'note.signed@1.0.0',
    {
      type: 'object',
      required: ['schema', 'text', 'signatures'],
      additionalProperties: false,
      properties: { schema: { const: 'note.signed@1.0.0' }, text: { type: 'string' }, signatures: { type: 'array' } },
    },
    'file',
  );
  r.validateDocument('note.signed@1.0.0', { schema: 'note.signed@1.0.0', text: 'hi', signatures: [] });
  rejects(
    () => r.validateDocument('note.signed@1.0.0', { schema: 'note.signed@1.0.0', text: 'hi' }),
    'SCHEMA_VALIDATION_FAILED',
    '/signatures',
    /^document does not match note\.signed@1\.0\.0 at \/signatures: must have required property 'signatures'$/,
  );
  rejects(() => r.validateDocument('note.signed@1.0.0', [1]), 'SCHEMA_VALIDATION_FAILED', '', /must be object/);
  rejects(() => r.validateDocument('note.other@1.0.0', {}), 'SCHEMA_UNKNOWN', '/schema');
  const real = new SchemaRegistry();
  const registrySchema = JSON.parse(
    readFileSync(join(defaultSchemaDir(), 'federation.registry.set@1.0.0.json'), 'utf8'),
  ) as object;
  real.register('federation.registry.set@1.0.0', registrySchema, 'file');
  rejects(
    () => real.validateDocument('federation.registry.set@1.0.0', { federation_id: 'x' }),
    'SCHEMA_VALIDATION_FAILED',
    '/version',
  );
});
