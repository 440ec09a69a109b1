import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_JSON_DEPTH,
  RemembrancerError,
  canonicalize,
  isRemembrancerError,
  parseJsonStrict,
  parseJsonStrictAsync,
} from '../../src/index.js';

const isInvalidJson = (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_JSON';

test('parses what JSON.parse parses', () => {
  const texts = [
    '0',
    '-0',
    ' 1.5e3 ',
    '"a"',
    'true',
    'false',
    'null',
    '[]',
    '{}',
    '[1,[2,[3,{}]],{"a":[]}]',
    '\t\r\n {"a" : 1 , "b":[ true ,false, null ] , "c":{"d":"\\u00e9\\n\\/\\"\\\\"}}\n',
    '"\\ud83d\\ude00 and 😀 and \\uD83D\\uDE00"',
    '{"":""}',
    '1E+2',
    '-0.0e-0',
    '1e-400',
  ];
  for (const t of texts) assert.deepEqual(parseJsonStrict(t), JSON.parse(t), t);
  assert.ok(Object.is(parseJsonStrict('-0'), -0));
});

test('rejects invalid JSON with a position', () => {
  const cases: [string, RegExp][] = [
    ['', /end of input at position 0/],
    ['   ', /end of input at position 3/],
    ['{"a":1,}', /member name string at position 7/],
    ['[1,]', /unexpected character '\]' at position 3/],
    ['[1 2]', /expected ',' or '\]' at position 3/],
    ['{"a" 1}', /expected ':' at position 5/],
    ['{"a":1', /end of input at position 6/],
    ['01', /unexpected data after the JSON value at position 1/],
    ['1.', /digit after the decimal point at position 2/],
    ['.5', /unexpected character '\.' at position 0/],
    ['-', /end of input at position 1/],
    ['1e', /digit in the exponent at position 2/],
    ['+1', /unexpected character '\+'/],
    ['"abc', /unterminated string at position 0/],
    ['"a\tb"', /control character in string at position 2/],
    ['"\\x"', /invalid escape sequence at position 1/],
    ['"\\u12G4"', /invalid \\u escape at position 1/],
    ['tru', /unexpected character 't'/],
    ['NaN', /unexpected character 'N'/],
    ['Infinity', /unexpected character 'I'/],
    ["{'a':1}", /member name string/],
    ['\ufeff{}', /unexpected character U\+FEFF at position 0/],
    ['[1]\n[2]', /after the JSON value at position 4 \(line 2, column 1\)/],
    ['{\n  "a": 1,\n  "a": 2\n}', /duplicate member name "a" at position 14 \(line 3, column 3\)/],
    ['1e400', /outside the IEEE 754 double range at position 0/],
    ['-1e400', /outside the IEEE 754 double range/],
    ['"\\ud800"', /lone surrogate at position 0/],
    ['"x\\udc00y"', /lone surrogate/],
    ['"\ud800"', /lone surrogate/],
    ['{"\\ud83d":1}', /lone surrogate/],
  ];
  for (const [text, message] of cases) {
    assert.throws(
      () => parseJsonStrict(text),
      (e: unknown) => isInvalidJson(e) && message.test((e as Error).message),
      JSON.stringify(text),
    );
  }
  assert.throws(() => parseJsonStrict(undefined as unknown as string), isInvalidJson);
});

test('rejects duplicate member names, however they are spelled', () => {
  for (const text of [
    '{"a":1,"a":1}',
    '{"a":1,"\\u0061":2}',
    '{"x":{"b":[],"b":{}}}',
    '[{"k":1},{"k":2,"k":3}]',
    '{"__proto__":1,"__proto__":2}',
  ]) {
    assert.throws(
      () => parseJsonStrict(text),
      (e: unknown) => isInvalidJson(e) && /duplicate member name/.test((e as Error).message),
      text,
    );
  }
  // The same name in sibling objects is not a duplicate.
  assert.deepEqual(parseJsonStrict('[{"k":1},{"k":2}]'), [{ k: 1 }, { k: 2 }]);
});

test('"__proto__" becomes an own member, as with JSON.parse', () => {
  const v = parseJsonStrict('{"__proto__":{"polluted":true},"a":1}') as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__', 'a']);
  assert.equal(({} as Record<string, unknown>)['polluted'], undefined);
  assert.equal(canonicalize(v), '{"__proto__":{"polluted":true},"a":1}');
});

test('deep nesting does not exhaust the stack (with the bound lifted)', () => {
  const depth = 500_000;
  const v = parseJsonStrict('['.repeat(depth) + ']'.repeat(depth), { maxDepth: depth });
  assert.ok(Array.isArray(v));
  assert.throws(() => parseJsonStrict('['.repeat(depth) + ']'.repeat(depth - 1), { maxDepth: depth }), isInvalidJson);
});

test('nesting is bounded: MAX_JSON_DEPTH containers parse, one more is INVALID_JSON at the offending bracket', () => {
  assert.equal(MAX_JSON_DEPTH, 128);
  const ok = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
  assert.deepEqual(parseJsonStrict(ok), JSON.parse(ok));
  assert.deepEqual(
    parseJsonStrict('{"a":'.repeat(MAX_JSON_DEPTH) + '1' + '}'.repeat(MAX_JSON_DEPTH)),
    JSON.parse('{"a":'.repeat(MAX_JSON_DEPTH) + '1' + '}'.repeat(MAX_JSON_DEPTH)),
  );
  const tooDeep = '['.repeat(MAX_JSON_DEPTH + 1) + ']'.repeat(MAX_JSON_DEPTH + 1);
  assert.throws(
    () => parseJsonStrict(tooDeep),
    (e: unknown) => isInvalidJson(e) && /nesting deeper than 128 levels at position 128/.test((e as Error).message),
  );
  // An empty container counts as a level too.
  assert.throws(() => parseJsonStrict('['.repeat(MAX_JSON_DEPTH) + '{}' + ']'.repeat(MAX_JSON_DEPTH)), isInvalidJson);
  assert.deepEqual(parseJsonStrict('[[1]]', { maxDepth: 2 }), [[1]]);
  assert.throws(() => parseJsonStrict('[[[1]]]', { maxDepth: 2 }), isInvalidJson);
  assert.throws(
    () => parseJsonStrict('[]', { maxDepth: 0 }),
    (e: unknown) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
  );
});

test('a nesting bomb fails after MAX_JSON_DEPTH + 1 characters, whatever its length: work is bounded, not proportional', () => {
  // 64 MiB of '[' would take ~4 GiB of heap unbounded; bounded, the parser stops at offset 128.
  const bomb = '['.repeat(64 * 1024 * 1024);
  assert.throws(
    () => parseJsonStrict(bomb),
    (e: unknown) => isInvalidJson(e) && /at position 128 \(line 1, column 129\)/.test((e as Error).message),
  );
});

test('property: on arbitrary text, throws only INVALID_JSON, and agrees with JSON.parse', () => {
  const text = fc.oneof(
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.string({ unit: fc.constantFrom(...'{}[],:"\\ 0123456789.eE+-tfnrul\ud800\udc00a'.split('')) }),
    fc.json().map((j) => j.slice(0, Math.max(0, j.length - 1))),
  );
  fc.assert(
    fc.property(text, (t) => {
      let strict: unknown;
      let strictError: unknown;
      try {
        strict = parseJsonStrict(t);
      } catch (e) {
        strictError = e;
      }
      let loose: unknown;
      let looseFailed = false;
      try {
        loose = JSON.parse(t);
      } catch {
        looseFailed = true;
      }
      if (strictError !== undefined) {
        assert.ok(isInvalidJson(strictError), strictError instanceof Error ? strictError.message : 'not an Error');
      } else {
        assert.equal(looseFailed, false, 'accepted text JSON.parse rejects');
        assert.deepEqual(strict, loose);
      }
    }),
    { numRuns: 3000 },
  );
});

test('property: valid JSON text parses exactly as JSON.parse does', () => {
  for (const stringUnit of ['grapheme-ascii', 'grapheme'] as const) {
    fc.assert(
      fc.property(fc.json({ stringUnit }), (t) => {
        assert.deepEqual(parseJsonStrict(t), JSON.parse(t));
        assert.deepEqual(parseJsonStrict(JSON.stringify(JSON.parse(t), null, 2)), JSON.parse(t));
      }),
      { numRuns: 300 },
    );
  }
});

test('parseJsonStrictAsync gives parseJsonStrict’s result and errors, and yields between slices on large input', async () => {
  const big =
    '{' + Array.from({ length: 50_000 }, (_, i) => `"k${i}":[${i},{"a":"${'x'.repeat(i % 7)}"}]`).join(',') + '}';
  let yields = 0;
  const yieldTo = () => {
    yields++;
    return new Promise<void>((resolve) => setImmediate(resolve));
  };
  assert.deepEqual(await parseJsonStrictAsync(big, { sliceMs: 0, yieldTo }), parseJsonStrict(big));
  // With a zero-length slice it stops at every clock check: the value is built across many turns.
  assert.ok(yields > 100, `yielded ${yields} times`);
  for (const bad of [
    '{"a":1,"a":2}',
    '[' + '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH + 1),
    '{"a":1',
    '"\\ud800"',
  ]) {
    const sync = (() => {
      try {
        parseJsonStrict(bad);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    })();
    await assert.rejects(
      parseJsonStrictAsync(bad, { sliceMs: 0, yieldTo }),
      (e: unknown) => isInvalidJson(e) && (e as Error).message === sync,
    );
  }
});

test('property: parseJsonStrictAsync agrees with parseJsonStrict on arbitrary JSON-ish text', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.json(), fc.string({ unit: fc.constantFrom(...'{}[],:"\\ 01.e-tfnrul'.split('')) })),
      async (text) => {
        let expected: unknown;
        let expectedError: string | undefined;
        try {
          expected = parseJsonStrict(text);
        } catch (e) {
          expectedError = (e as Error).message;
        }
        try {
          const got = await parseJsonStrictAsync(text, { sliceMs: 0, yieldTo: () => Promise.resolve() });
          assert.equal(expectedError, undefined);
          assert.deepEqual(got, expected);
        } catch (e) {
          if (e instanceof assert.AssertionError) throw e;
          assert.equal((e as Error).message, expectedError);
        }
      },
    ),
    { numRuns: 300, seed: 8 },
  );
});
