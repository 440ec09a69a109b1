import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RemembrancerError, compareVersions, type SchemaVersion } from '../../src/index.js';
import { formatSchemaVersion, formatSemverRange, parseSemverRange, satisfies } from '../../src/schema-policy/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from '../note/arbitraries.js';

const MAX = Number.MAX_SAFE_INTEGER;

// node-semver's documented desugarings (https://github.com/npm/node-semver#advanced-range-syntax),
// with its `-0` pre-release floors dropped (schema versions have no pre-releases, so `<2.0.0-0`
// and `<2.0.0` are the same set).
const DESUGARED: [string, string][] = [
  // primitives and exact versions
  ['1.2.3', '1.2.3'],
  ['=1.2.3', '1.2.3'],
  ['v1.2.3', '1.2.3'],
  ['=v1.2.3', '1.2.3'],
  ['>1.2.3', '>1.2.3'],
  ['<1.2.3', '<1.2.3'],
  ['>=1.2.7 <1.3.0', '>=1.2.7 <1.3.0'],
  ['>= 1.2.7  <   1.3.0', '>=1.2.7 <1.3.0'],
  ['1.2.7 || >=1.2.9 <2.0.0', '1.2.7 || >=1.2.9 <2.0.0'],
  // hyphen ranges
  ['1.2.3 - 2.3.4', '>=1.2.3 <=2.3.4'],
  ['1.2 - 2.3.4', '>=1.2.0 <=2.3.4'],
  ['1.2.3 - 2.3', '>=1.2.3 <2.4.0'],
  ['1.2.3 - 2', '>=1.2.3 <3.0.0'],
  ['* - 2', '<3.0.0'],
  ['1 - *', '>=1.0.0'],
  // x-ranges and partial versions
  ['*', '*'],
  ['x', '*'],
  ['X', '*'],
  ['1.x', '>=1.0.0 <2.0.0'],
  ['1.X', '>=1.0.0 <2.0.0'],
  ['1.2.x', '>=1.2.0 <1.3.0'],
  ['1.2.*', '>=1.2.0 <1.3.0'],
  ['1.x.x', '>=1.0.0 <2.0.0'],
  ['1', '>=1.0.0 <2.0.0'],
  ['1.2', '>=1.2.0 <1.3.0'],
  ['=1.2', '>=1.2.0 <1.3.0'],
  // x-ranges under a primitive operator (node-semver's replaceXRange)
  ['>1', '>=2.0.0'],
  ['>1.2', '>=1.3.0'],
  ['>=1.2', '>=1.2.0'],
  ['>=1.x', '>=1.0.0'],
  ['<1.2', '<1.2.0'],
  ['<=1.2', '<1.3.0'],
  ['<=1', '<2.0.0'],
  ['<=0.7.x', '<0.8.0'],
  ['>=0.7.x', '>=0.7.0'],
  ['<0.7.x', '<0.7.0'],
  ['>*', '<0.0.0'],
  ['<*', '<0.0.0'],
  ['>=*', '*'],
  ['<=*', '*'],
  // tilde
  ['~1.2.3', '>=1.2.3 <1.3.0'],
  ['~1.2', '>=1.2.0 <1.3.0'],
  ['~1', '>=1.0.0 <2.0.0'],
  ['~0.2.3', '>=0.2.3 <0.3.0'],
  ['~0.2', '>=0.2.0 <0.3.0'],
  ['~0', '>=0.0.0 <1.0.0'],
  ['~1.2.x', '>=1.2.0 <1.3.0'],
  ['~>1.2.3', '>=1.2.3 <1.3.0'],
  ['~ 1.2.3', '>=1.2.3 <1.3.0'],
  ['~*', '*'],
  // caret
  ['^1.2.3', '>=1.2.3 <2.0.0'],
  ['^0.2.3', '>=0.2.3 <0.3.0'],
  ['^0.0.3', '>=0.0.3 <0.0.4'],
  ['^1.2.x', '>=1.2.0 <2.0.0'],
  ['^0.0.x', '>=0.0.0 <0.1.0'],
  ['^0.0', '>=0.0.0 <0.1.0'],
  ['^1.x', '>=1.0.0 <2.0.0'],
  ['^0.x', '>=0.0.0 <1.0.0'],
  ['^1', '>=1.0.0 <2.0.0'],
  ['^ 1.2.3', '>=1.2.3 <2.0.0'],
  ['^*', '*'],
  // unions and intersections of the above
  ['^1.0.0 || ~2.1', '>=1.0.0 <2.0.0 || >=2.1.0 <2.2.0'],
  ['1.x || >=2.5.0 || 5.0.0 - 7.2.3', '>=1.0.0 <2.0.0 || >=2.5.0 || >=5.0.0 <=7.2.3'],
  ['^1.2 ~1.4', '>=1.2.0 <2.0.0 >=1.4.0 <1.5.0'],
  ['\t1.0.0\t', '1.0.0'],
  // bounds past the largest version stay exact
  [`^${MAX}.0.0`, `>=${MAX}.0.0 <${MAX + 1}.0.0`],
];

test('desugars every documented node-semver form', () => {
  for (const [range, expected] of DESUGARED) {
    assert.equal(formatSemverRange(parseSemverRange(range)), expected, range);
  }
});

// [range, satisfying versions, non-satisfying versions], after node-semver's README and tests.
const MATCHES: [string, string[], string[]][] = [
  ['1.2.3', ['1.2.3'], ['1.2.4', '1.2.2', '0.2.3', '1.3.3']],
  ['>=1.2.7', ['1.2.7', '1.2.8', '2.5.3', '1.3.9'], ['1.2.6', '1.1.0']],
  ['>=1.2.7 <1.3.0', ['1.2.7', '1.2.8', '1.2.99'], ['1.2.6', '1.3.0', '1.1.0']],
  ['1.2.7 || >=1.2.9 <2.0.0', ['1.2.7', '1.2.9', '1.4.6'], ['1.2.8', '2.0.0']],
  ['1.2.3 - 2.3.4', ['1.2.3', '2.0.0', '2.3.4'], ['1.2.2', '2.3.5']],
  ['1.2.3 - 2.3', ['2.3.99'], ['2.4.0']],
  ['^1.2.3', ['1.2.3', '1.9.9', '1.2.4'], ['2.0.0', '1.2.2', '0.2.3']],
  ['^0.2.3', ['0.2.3', '0.2.99'], ['0.3.0', '0.2.2', '1.0.0']],
  ['^0.0.3', ['0.0.3'], ['0.0.4', '0.0.2', '0.1.3']],
  ['~1.2.3', ['1.2.3', '1.2.9'], ['1.3.0', '1.2.2']],
  ['~1.2', ['1.2.0', '1.2.9'], ['1.3.0', '1.1.9']],
  ['~1', ['1.0.0', '1.99.0'], ['2.0.0', '0.9.0']],
  ['1.2.x', ['1.2.0', '1.2.99'], ['1.3.0', '1.1.0']],
  ['1.x', ['1.0.0', '1.99.99'], ['2.0.0', '0.99.0']],
  ['*', ['0.0.0', '1.2.3', `${MAX}.${MAX}.${MAX}`], []],
  ['>*', [], ['0.0.0', '1.0.0']],
  // issue 4: `1.0.x` must not match `1.01.0` (not a version at all), nor does anything else
  ['1.0.x', ['1.0.0', '1.0.1'], ['1.01.0', '1.1.0', '01.0.0', '1.0.01']],
  ['*', [], ['1.01.0', '1.0.0-rc.1', '1.0.0+b', 'v1.0.0', '1.0', '', ' 1.0.0']],
];

test('matches node-semver on its documented examples', () => {
  for (const [range, yes, no] of MATCHES) {
    const parsed = parseSemverRange(range);
    for (const ver of yes) assert.equal(satisfies(ver, parsed), true, `${ver} in ${range}`);
    for (const ver of no) assert.equal(satisfies(ver, parsed), false, `${ver} not in ${range}`);
  }
});

test('satisfies takes range text too and treats bad text as not satisfied', () => {
  assert.equal(satisfies('1.2.3', '^1.0.0'), true);
  assert.equal(satisfies({ major: 1, minor: 2, patch: 3 }, '~1.2'), true);
  assert.equal(satisfies('1.2.3', '^1.0.0 ||'), false);
  assert.equal(satisfies({ major: 1, minor: -1, patch: 0 }, '*'), false);
  assert.equal(satisfies({ major: 1.5, minor: 0, patch: 0 }, '*'), false);
});

test('refuses bad syntax with INVALID_ARGUMENT', () => {
  for (const bad of [
    '', // node-semver reads this as *; here it is an error
    '   ',
    '1.2.3 ||', // would otherwise widen to *
    '|| 1.2.3',
    '1.2.3 || || 2.0.0',
    '01.0.0', // leading zeros are errors, not loose-mode coercions
    '1.01.0',
    '1.0.01',
    '^01.2.3',
    '>=1.0.00',
    '1.0.0-rc.1', // no pre-releases
    '1.0.0+build', // no build metadata
    '^1.0.0-0',
    '1.x.3', // a number after a wildcard
    '*.1',
    '1.2.3.4',
    '1.',
    '.1',
    '1..2',
    'a.b.c',
    'latest',
    '>=',
    '>= ',
    '^',
    '~',
    '=>1.0.0',
    '==1.0.0',
    '~=1.0.0',
    '>=1.2.3<2.0.0',
    '1.2.3 -2.3.4',
    '1.2.3- 2.3.4',
    '1.2.3 - 2.3.4 - 3.0.0',
    '>1.2.3 - 2.3.4',
    '1.2.3 - ^2.3.4',
    '1.2.3 - 2.3.4 <3.0.0',
    '-',
    '1 | 2',
    '1 ||| 2',
    `${MAX + 1}.0.0`,
    `^1.${MAX + 1}.0`,
    '１.0.0',
    '1.0.0\u00a0',
    '1.0.0\n',
    'vv1.0.0',
    'V1.0.0',
    'x'.repeat(257),
  ]) {
    assert.throws(
      () => parseSemverRange(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
      JSON.stringify(bad),
    );
  }
  for (const bad of [undefined, null, 1, {}, ['1.0.0']]) {
    assert.throws(
      () => parseSemverRange(bad),
      (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT',
    );
  }
  assert.throws(() => parseSemverRange('1.0.0-rc.1'), /pre-release/);
  assert.throws(() => parseSemverRange('1.2.3 ||'), /empty/);
});

const small = fc.nat({ max: 4 });
const num = fc.oneof(
  { weight: 4, arbitrary: small },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: MAX }) },
  { weight: 1, arbitrary: fc.constantFrom(MAX, MAX - 1) },
);
const version = fc.tuple(num, num, num).map(([major, minor, patch]): SchemaVersion => ({ major, minor, patch }));
// Nearby versions exercise the boundaries far more often than independent ones.
const near = version.chain((a) =>
  fc.tuple(
    fc.constant(a),
    fc.oneof(
      version,
      fc
        .tuple(fc.integer({ min: -1, max: 1 }), fc.integer({ min: -1, max: 1 }), fc.integer({ min: -1, max: 1 }))
        .map(([d1, d2, d3]) => ({
          major: Math.min(MAX, Math.max(0, a.major + d1)),
          minor: Math.min(MAX, Math.max(0, a.minor + d2)),
          patch: Math.min(MAX, Math.max(0, a.patch + d3)),
        })),
    ),
  ),
);
const f = formatSchemaVersion;

test('property: an exact range matches only its own version', () => {
  fc.assert(
    fc.property(near, ([a, b]) => {
      assert.equal(satisfies(b, f(a)), compareVersions(a, b) === 0);
      assert.equal(satisfies(b, '=' + f(a)), compareVersions(a, b) === 0);
    }),
  );
});

test('property: ^x.y.z (x > 0) matches iff the same major and not lower', () => {
  fc.assert(
    fc.property(near, ([a, b]) => {
      fc.pre(a.major > 0);
      assert.equal(satisfies(b, '^' + f(a)), b.major === a.major && compareVersions(b, a) >= 0);
    }),
  );
});

test('property: ^0.y.z (y > 0) keeps the minor, ^0.0.z is exact', () => {
  fc.assert(
    fc.property(near, ([a0, b]) => {
      const a = { ...a0, major: 0 };
      const expected =
        a.minor > 0 ? b.major === 0 && b.minor === a.minor && compareVersions(b, a) >= 0 : compareVersions(a, b) === 0;
      assert.equal(satisfies(b, '^' + f(a)), expected);
    }),
  );
});

test('property: ~x.y.z matches iff the same major and minor and not lower', () => {
  fc.assert(
    fc.property(near, ([a, b]) => {
      assert.equal(satisfies(b, '~' + f(a)), b.major === a.major && b.minor === a.minor && compareVersions(b, a) >= 0);
    }),
  );
});

test('property: x-ranges fix exactly the parts they name', () => {
  fc.assert(
    fc.property(near, fc.constantFrom('x', 'X', '*'), ([a, b], x) => {
      assert.equal(satisfies(b, `${a.major}.${a.minor}.${x}`), b.major === a.major && b.minor === a.minor);
      assert.equal(satisfies(b, `${a.major}.${a.minor}`), b.major === a.major && b.minor === a.minor);
      assert.equal(satisfies(b, `${a.major}.${x}`), b.major === a.major);
      assert.equal(satisfies(b, `${a.major}`), b.major === a.major);
      assert.equal(satisfies(b, x), true);
    }),
  );
});

test('property: comparators, hyphen ranges and unions mean what they say', () => {
  fc.assert(
    fc.property(near, version, ([a, v], b) => {
      const ca = compareVersions(v, a);
      const cb = compareVersions(v, b);
      assert.equal(satisfies(v, `>=${f(a)} <${f(b)}`), ca >= 0 && cb < 0);
      assert.equal(satisfies(v, `>${f(a)} <=${f(b)}`), ca > 0 && cb <= 0);
      assert.equal(satisfies(v, `${f(a)} - ${f(b)}`), ca >= 0 && cb <= 0);
      assert.equal(satisfies(v, `<${f(a)} || >${f(b)}`), ca < 0 || cb > 0);
      assert.equal(satisfies(v, `${f(a)} || ${f(b)}`), ca === 0 || cb === 0);
    }),
  );
});

const rangeText = (ver: fc.Arbitrary<string>): fc.Arbitrary<string> =>
  fc
    .array(
      fc.tuple(
        fc.constantFrom('', '=', '<', '<=', '>', '>=', '~', '~>', '^', 'v'),
        fc.oneof(ver, fc.constantFrom('1.x', '1.2', '*', '0.0.x')),
        fc.constantFrom(' ', ' || ', ' - '),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((parts) => parts.map(([op, v, sep], i) => (i === 0 ? '' : sep) + op + v).join(''));

test('property: the parser throws nothing but RemembrancerError on arbitrary text', () => {
  const validRange = rangeText(version.map(f));
  fc.assert(
    fc.property(fc.oneof(nastyString, validRange, mutated(validRange)), (s) => {
      onlyRemembrancerErrors(() => parseSemverRange(s));
    }),
    { numRuns: 500 },
  );
});

test('property: the desugared form parses back to itself and accepts the same versions', () => {
  const smallVersion = fc.tuple(small, small, small).map(([major, minor, patch]) => ({ major, minor, patch }));
  fc.assert(
    fc.property(rangeText(smallVersion.map(f)), fc.array(smallVersion, { maxLength: 8 }), (text, probes) => {
      let r;
      try {
        r = parseSemverRange(text);
      } catch {
        return;
      }
      const desugared = formatSemverRange(r);
      const again = parseSemverRange(desugared);
      assert.equal(formatSemverRange(again), desugared);
      for (const p of probes) assert.equal(satisfies(p, again), satisfies(p, r), `${f(p)} in ${text} vs ${desugared}`);
    }),
    { numRuns: 300 },
  );
});
