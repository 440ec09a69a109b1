import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, allowsAnyEntry, parseSchemaId, schemaAllowed } from '../../src/index.js';
import { parseSchemaAllowList } from '../../src/schema-policy/index.js';
import { nastyString } from '../note/arbitraries.js';

const POINTER = '/schema_policy/allow';

function policyError(pointer: string) {
  return (e: unknown) => e instanceof RemembrancerError && e.code === 'POLICY_INVALID' && e.pointer === pointer;
}

test('parseSchemaAllowList accepts "*" and name@RANGE patterns and returns a copy', () => {
  const input = [
    '*',
    'registry.set@^1.0.0',
    'invoice@~1.2.0',
    'invoice@1.0.0',
    'invoice@1.0.x',
    'a@>=1.0.0 <2.0.0 || 3.x',
    'b@1.2.3 - 2.0.0',
  ];
  const out = parseSchemaAllowList(input, POINTER);
  assert.deepEqual(out, input);
  assert.notEqual(out, input);
  assert.deepEqual(parseSchemaAllowList([], POINTER), []);
  assert.equal(
    parseSchemaAllowList(
      Array.from({ length: 64 }, (_, i) => `s${i}@*`),
      POINTER,
    ).length,
    64,
  );
});

test('parseSchemaAllowList refuses bad lists with POLICY_INVALID and the pointer of the offending item', () => {
  for (const bad of [undefined, null, '*', { 0: '*' }, 5])
    assert.throws(() => parseSchemaAllowList(bad, POINTER), policyError(POINTER));
  assert.throws(
    () =>
      parseSchemaAllowList(
        Array.from({ length: 65 }, (_, i) => `s${i}@*`),
        POINTER,
      ),
    policyError(POINTER),
  );
  const cases: [unknown[], number][] = [
    [['*', 1], 1],
    [[null], 0],
    [[['invoice@1.0.0']], 0],
    [['invoice@1.0.0', 'invoice@1.0.0'], 1], // duplicate
    [['*', '*'], 1],
    [['invoice'], 0], // no range
    [['invoice@'], 0], // empty range
    [['@1.0.0'], 0], // no name
    [['Invoice@1.0.0'], 0],
    [['in..voice@1.0.0'], 0],
    [['invoice@01.0.0'], 0], // leading zero
    [['invoice@1.01.x'], 0],
    [['invoice@1.0.0-rc.1'], 0],
    [['invoice@^1.0.0 ||'], 0],
    [['invoice@1.0.0@2'], 0],
    [['**'], 0],
    [['*@1.0.0'], 0],
    [['x@1.0.0', 'a'.repeat(129) + '@1.0.0'], 1],
    [['x@' + '1 '.repeat(128)], 0], // longer than 256
    [[''], 0],
  ];
  for (const [list, i] of cases) {
    assert.throws(
      () => parseSchemaAllowList(list, POINTER),
      policyError(`${POINTER}/${i}`),
      JSON.stringify(list).slice(0, 60),
    );
  }
  assert.throws(() => parseSchemaAllowList(['invoice@01.0.0'], POINTER), /schema_policy\.allow\[0\].*leading zeros/);
});

const id = (s: string) => parseSchemaId(s);

test('schemaAllowed applies the ranges of matching names', () => {
  const allow = ['registry.set@^1.0.0', 'invoice@~1.2.0', 'receipt@1.0.0', 'memo@1.0.x'];
  const table: [string, boolean][] = [
    ['registry.set@1.0.0', true],
    ['registry.set@1.9.3', true],
    ['registry.set@2.0.0', false],
    ['registry.set@0.9.0', false],
    ['invoice@1.2.0', true],
    ['invoice@1.2.9', true],
    ['invoice@1.3.0', false],
    ['invoice@1.1.9', false],
    ['receipt@1.0.0', true],
    ['receipt@1.0.1', false],
    ['memo@1.0.0', true],
    ['memo@1.0.7', true],
    ['memo@1.1.0', false],
    ['memo@10.0.0', false],
    ['other@1.0.0', false],
    ['registry@1.0.0', false], // a prefix of a name is another name
    ['registry.set.extra@1.0.0', false],
  ];
  for (const [s, expected] of table) assert.equal(schemaAllowed(id(s), allow), expected, s);
  // issue 4: `1.0.x` must not match `1.01.0`, which is not even a schema id
  assert.throws(() => parseSchemaId('memo@1.01.0'), RemembrancerError);
});

test('"*" allows every schema and every entry; an empty list allows none', () => {
  assert.equal(allowsAnyEntry(['*']), true);
  assert.equal(allowsAnyEntry(['invoice@*', 'x@1.0.0']), false);
  assert.equal(allowsAnyEntry([]), false);
  assert.equal(schemaAllowed(id('anything@9.9.9'), ['invoice@1.0.0', '*']), true);
  assert.equal(schemaAllowed(id('invoice@1.0.0'), []), false);
  assert.equal(schemaAllowed(id('invoice@3.0.0'), ['invoice@*']), true);
});

test('schemaAllowed ignores patterns that do not parse (deny by default)', () => {
  assert.equal(schemaAllowed(id('invoice@1.0.0'), ['invoice@01.0.0', 'invoice@', 'invoice', 'Invoice@1.0.0']), false);
  assert.equal(schemaAllowed(id('invoice@1.0.0'), ['invoice@01.0.0', 'invoice@1.0.0']), true);
});

test('property: schemaAllowed of a parsed list never throws and agrees with an uncached evaluation', () => {
  const pattern = fc.oneof(
    fc.constantFrom(
      '*',
      'invoice@^1.0.0',
      'invoice@~1.2',
      'invoice@1.0.x',
      'memo@>=0.1.0 <0.3.0 || 2.x',
      'memo@1.0.0 - 1.2',
    ),
    nastyString,
  );
  const ver = fc.tuple(fc.nat({ max: 3 }), fc.nat({ max: 3 }), fc.nat({ max: 3 })).map(([a, b, c]) => `${a}.${b}.${c}`);
  fc.assert(
    fc.property(
      fc.array(pattern, { maxLength: 6 }),
      fc.constantFrom('invoice', 'memo', 'other'),
      ver,
      (list, name, v) => {
        const ok = schemaAllowed(id(`${name}@${v}`), list);
        // The same answer twice (the second from the cache), and the same as each pattern alone.
        assert.equal(schemaAllowed(id(`${name}@${v}`), list), ok);
        assert.equal(
          ok,
          list.some((p) => schemaAllowed(id(`${name}@${v}`), [p])),
        );
      },
    ),
  );
});
