import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, SCHEMA_ID_PATTERN, compareVersions, isSchemaId, parseSchemaId } from '../../src/index.js';
import { formatSchemaId, formatSchemaVersion, parseSchemaVersion } from '../../src/schema-policy/index.js';

const MAX = Number.MAX_SAFE_INTEGER;

test('parses valid schema ids', () => {
  assert.deepEqual(parseSchemaId('invoice@1.2.3'), { name: 'invoice', version: { major: 1, minor: 2, patch: 3 } });
  assert.deepEqual(parseSchemaId('federation.registry.set@1.0.0'), {
    name: 'federation.registry.set',
    version: { major: 1, minor: 0, patch: 0 },
  });
  assert.deepEqual(parseSchemaId('namespace.create@0.0.0').version, { major: 0, minor: 0, patch: 0 });
  assert.deepEqual(parseSchemaId('a_b-c.d9@10.20.30').name, 'a_b-c.d9');
  assert.deepEqual(parseSchemaId(`x@${MAX}.${MAX}.${MAX}`).version, { major: MAX, minor: MAX, patch: MAX });
  assert.equal(parseSchemaId('a'.repeat(128) + '@1.0.0').name.length, 128);
});

test('refuses malformed schema ids with INVALID_ARGUMENT', () => {
  for (const bad of [
    'invoice@1.01.0', // leading zero: not a SemVer version at all
    'invoice@01.0.0',
    'invoice@1.0.00',
    'invoice@1.0',
    'invoice@1',
    'invoice@1.0.0.0',
    'invoice@1.0.0-rc.1', // pre-release suffixes are not part of schema ids
    'invoice@1.0.0+build', // nor build metadata
    'invoice@v1.0.0',
    'invoice@=1.0.0',
    'invoice@^1.0.0',
    'invoice@1.0.x',
    'invoice@ 1.0.0',
    'invoice@1.0.0 ',
    'invoice@-1.0.0',
    `invoice@${MAX + 1}.0.0`,
    'invoice@99999999999999999999.0.0',
    'invoice',
    '@1.0.0',
    'invoice@@1.0.0',
    'Invoice@1.0.0',
    '.invoice@1.0.0',
    'invoice.@1.0.0',
    'in..voice@1.0.0',
    'in-_voice@1.0.0',
    'in voice@1.0.0',
    'a'.repeat(129) + '@1.0.0',
    '',
    'invoice@１.0.0', // fullwidth digit
  ]) {
    assert.throws(
      () => parseSchemaId(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
      bad,
    );
    assert.equal(isSchemaId(bad), false, bad);
  }
  for (const bad of [undefined, null, 1, {}, ['a@1.0.0']]) {
    assert.throws(
      () => parseSchemaId(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  }
});

test('the error message says what is wrong', () => {
  assert.throws(() => parseSchemaId('invoice@1.01.0'), /leading zeros/);
  assert.throws(() => parseSchemaId(`invoice@${MAX + 1}.0.0`), /MAX_SAFE_INTEGER/);
  assert.throws(() => parseSchemaId('Invoice@1.0.0'), /name must match/);
});

test('formatSchemaId is the inverse of parseSchemaId and refuses what would not parse', () => {
  assert.equal(formatSchemaId({ name: 'invoice', version: { major: 1, minor: 2, patch: 3 } }), 'invoice@1.2.3');
  assert.equal(formatSchemaVersion({ major: 0, minor: 10, patch: 0 }), '0.10.0');
  for (const bad of [
    { name: 'Invoice', version: { major: 1, minor: 0, patch: 0 } },
    { name: 'invoice', version: { major: -1, minor: 0, patch: 0 } },
    { name: 'invoice', version: { major: 1.5, minor: 0, patch: 0 } },
    { name: 'invoice', version: { major: 1, minor: MAX + 1, patch: 0 } },
    { name: 'invoice', version: { major: 1, minor: 0, patch: Number.NaN } },
  ]) {
    assert.throws(
      () => formatSchemaId(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  }
});

const nameArb = fc
  .array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 5 })
  .chain((words) =>
    fc.tuple(
      fc.constant(words),
      fc.array(fc.constantFrom('.', '_', '-'), { minLength: words.length - 1, maxLength: words.length - 1 }),
    ),
  )
  .map(([words, seps]) => words.map((w, i) => (i === 0 ? w : seps[i - 1]! + w)).join(''));
const numArb = fc.oneof(fc.nat({ max: 20 }), fc.integer({ min: 0, max: MAX }), fc.constant(MAX));
const versionArb = fc.tuple(numArb, numArb, numArb).map(([major, minor, patch]) => ({ major, minor, patch }));

test('property: parse(format(id)) round-trips', () => {
  fc.assert(
    fc.property(nameArb, versionArb, (name, version) => {
      const s = formatSchemaId({ name, version });
      assert.deepEqual(parseSchemaId(s), { name, version });
      assert.ok(SCHEMA_ID_PATTERN.test(s));
    }),
  );
});

test('property: parseSchemaId agrees with SCHEMA_ID_PATTERN on short ids and throws only RemembrancerError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 30 }), fc.stringMatching(/^[a-z.\-_@0-9]{0,20}$/)), (s) => {
      let ok = true;
      try {
        parseSchemaId(s);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT', String(e));
        ok = false;
      }
      assert.equal(ok, SCHEMA_ID_PATTERN.test(s), s);
    }),
  );
});

test('property: a version with a leading zero in any part never parses', () => {
  fc.assert(
    fc.property(versionArb, fc.integer({ min: 0, max: 2 }), (v, part) => {
      const parts = [v.major, v.minor, v.patch].map(String);
      parts[part] = '0' + parts[part]!;
      assert.throws(() => parseSchemaVersion(parts.join('.')), RemembrancerError);
    }),
  );
});

test('property: compareVersions is the lexicographic order of (major, minor, patch)', () => {
  fc.assert(
    fc.property(versionArb, versionArb, (a, b) => {
      const expected =
        a.major !== b.major
          ? Math.sign(a.major - b.major)
          : a.minor !== b.minor
            ? Math.sign(a.minor - b.minor)
            : Math.sign(a.patch - b.patch);
      assert.equal(compareVersions(a, b), expected);
      assert.equal(compareVersions(b, a), -expected || 0);
      assert.equal(compareVersions(a, a), 0);
    }),
  );
});
