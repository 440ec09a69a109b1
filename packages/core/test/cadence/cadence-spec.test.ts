import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CADENCE_LEVELS, RemembrancerError, cadencePeriodsMs, parseCadence } from '../../src/index.js';

function rejects(value: unknown, pointer: string, base = '/cadence'): void {
  assert.throws(
    () => parseCadence(value, base),
    (e: unknown) => e instanceof RemembrancerError && e.code === 'POLICY_INVALID' && e.pointer === pointer,
    `expected POLICY_INVALID at ${pointer} for ${JSON.stringify(value)}`,
  );
}

const fast = { target: 'rfc3161:freetsa', every: '89s', confirmations: 0 };
const strong = { target: 'eip155:1', every: '12*fast', confirmations: 12 };
const cold = { target: 'btc:mainnet', every: '7*strong', confirmations: 6 };

test('CADENCE_LEVELS lists the levels from lowest to highest', () => {
  assert.deepEqual([...CADENCE_LEVELS], ['fast', 'strong', 'cold']);
});

test('parseCadence accepts every subset of levels and returns a normalized copy', () => {
  assert.deepEqual(parseCadence({}, '/cadence'), {});
  const input = { cold: { confirmations: 6, every: '1d', target: 'btc:signet' }, fast };
  const out = parseCadence(input, '/cadence');
  assert.deepEqual(out, { fast, cold: { target: 'btc:signet', every: '1d', confirmations: 6 } });
  assert.deepEqual(Object.keys(out), ['fast', 'cold']);
  assert.deepEqual(Object.keys(out.cold), ['target', 'every', 'confirmations']);
  assert.notEqual(out.fast, input.fast);
  assert.deepEqual(parseCadence({ fast, strong, cold }, ''), { fast, strong, cold });
  assert.deepEqual(parseCadence({ strong: { ...strong, every: '5m' } }, ''), { strong: { ...strong, every: '5m' } });
  assert.ok(Object.is(parseCadence({ fast: { ...fast, confirmations: -0 } }, '').fast!.confirmations, 0));
});

test('periods resolve fixed durations and multiples of lower levels', () => {
  assert.deepEqual(cadencePeriodsMs({}), {});
  assert.deepEqual(cadencePeriodsMs({ fast, strong, cold }), {
    fast: 89_000,
    strong: 12 * 89_000,
    cold: 7 * 12 * 89_000,
  });
  assert.deepEqual(cadencePeriodsMs({ fast: { ...fast, every: '5m' }, cold: { ...cold, every: '3*fast' } }), {
    fast: 300_000,
    cold: 900_000,
  });
  const units: [string, number][] = [
    ['1s', 1_000],
    ['5m', 300_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['366d', 366 * 86_400_000],
    ['31622400s', 366 * 86_400_000],
  ];
  for (const [every, ms] of units) assert.equal(cadencePeriodsMs({ fast: { ...fast, every } }).fast, ms, every);
});

test('targets: eip155, btc and rfc3161 spellings', () => {
  const ok = [
    'eip155:1',
    'eip155:11155111',
    'eip155:9007199254740991',
    'btc:mainnet',
    'btc:testnet',
    'btc:testnet4',
    'btc:signet',
    'btc:regtest',
    'rfc3161:a',
    'rfc3161:freetsa.org',
    'rfc3161:digicert_1-a',
  ];
  for (const target of ok)
    assert.equal(parseCadence({ cold: { target, every: '1d', confirmations: 0 } }, '').cold!.target, target);
  const bad = [
    'eip155:0',
    'eip155:01',
    'eip155:9007199254740992',
    'eip155:99999999999999999999',
    'eip155:-1',
    'eip155:1.5',
    'eip155:',
    'eip155: 1',
    'EIP155:1',
    'btc:Mainnet',
    'btc:testnet3',
    'btc:',
    'rfc3161:',
    'rfc3161:Free',
    'rfc3161:-a',
    'rfc3161:a-',
    'rfc3161:a b',
    `rfc3161:${'a'.repeat(65)}`,
    'solana:1',
    'eip155',
    '',
    'x'.repeat(1000),
  ];
  for (const target of bad) rejects({ cold: { target, every: '1d', confirmations: 0 } }, '/cadence/cold/target');
  rejects({ fast: { ...fast, target: 1 } }, '/cadence/fast/target');
  rejects({ fast: { ...fast, target: null } }, '/cadence/fast/target');
});

test('every: durations need n ≥ 1 without leading zeros and a total of 1 s to 366 d', () => {
  for (const every of [
    '0s',
    '01m',
    '1',
    's',
    '1w',
    '1S',
    '1.5h',
    '-1s',
    '1 s',
    ' 1s',
    '1s ',
    '367d',
    '8785h',
    '527041m',
    '31622401s',
    '99999999999999999999d',
    '1e3s',
  ]) {
    rejects({ fast: { ...fast, every } }, '/cadence/fast/every');
  }
  rejects({ fast: { ...fast, every: 60 } }, '/cadence/fast/every');
});

test('every: multiples only of a lower, present level, N 1..10000, result within bounds', () => {
  rejects({ fast: { ...fast, every: '2*fast' } }, '/cadence/fast/every');
  rejects({ fast, strong: { ...strong, every: '2*strong' } }, '/cadence/strong/every');
  rejects({ fast, strong, cold: { ...cold, every: '2*cold' } }, '/cadence/cold/every');
  rejects({ fast, strong: { ...strong, every: '2*cold' }, cold: { ...cold, every: '1d' } }, '/cadence/strong/every');
  rejects({ strong: { ...strong, every: '2*fast' } }, '/cadence/strong/every');
  rejects({ fast, cold: { ...cold, every: '2*strong' } }, '/cadence/cold/every');
  for (const every of ['0*fast', '01*fast', '10001*fast', '*fast', '2 * fast', '2*Fast', '2x fast', '2*fast*2']) {
    rejects({ fast, strong: { ...strong, every } }, '/cadence/strong/every');
  }
  assert.equal(
    cadencePeriodsMs({ fast: { ...fast, every: '1s' }, strong: { ...strong, every: '10000*fast' } }).strong,
    10_000_000,
  );
  // 10000 × 1 h = 10000 h > 366 d
  rejects({ fast: { ...fast, every: '1h' }, strong: { ...strong, every: '10000*fast' } }, '/cadence/strong/every');
  // within bounds at strong, beyond them once cold multiplies again
  rejects(
    { fast: { ...fast, every: '1h' }, strong: { ...strong, every: '24*fast' }, cold: { ...cold, every: '367*strong' } },
    '/cadence/cold/every',
  );
});

test('confirmations: integer 0..10000, and 0 for rfc3161', () => {
  for (const confirmations of [0, 1, 10_000]) parseCadence({ strong: { ...strong, every: '1h', confirmations } }, '');
  for (const confirmations of [-1, 10_001, 1.5, '1', null, Number.NaN, Infinity, true]) {
    rejects({ strong: { ...strong, every: '1h', confirmations } }, '/cadence/strong/confirmations');
  }
  rejects({ fast: { ...fast, confirmations: 1 } }, '/cadence/fast/confirmations');
});

test('structure: objects only, no unknown or missing members, pointers escaped', () => {
  for (const v of [null, [], 'fast', 1, true]) rejects(v, '/cadence');
  for (const v of [null, [], 'x', 3]) rejects({ fast: v }, '/cadence/fast');
  rejects({ fast, warm: fast }, '/cadence/warm');
  rejects({ fast: { ...fast, extra: 1 } }, '/cadence/fast/extra');
  rejects({ 'a/b~c': 1 }, '/cadence/a~1b~0c');
  rejects(JSON.parse('{"__proto__": {}}'), '/cadence/__proto__');
  for (const k of ['target', 'every', 'confirmations'] as const) {
    const level: Record<string, unknown> = { ...fast };
    delete level[k];
    rejects({ fast: level }, `/cadence/fast/${k}`);
  }
  rejects({ fast: { ...fast, every: '0s' } }, '/ns/x/cadence/fast/every', '/ns/x/cadence');
  rejects({ fast: { ...fast, every: '0s' } }, '/fast/every', '');
  assert.throws(() => cadencePeriodsMs({ strong: { ...strong } }), {
    code: 'POLICY_INVALID',
    pointer: '/strong/every',
  });
});

// Weighted towards valid members so that valid and invalid specs are both well covered.
const targetArb = fc.oneof(
  { arbitrary: fc.constantFrom('eip155:1', 'btc:signet', 'rfc3161:tsa'), weight: 16 },
  { arbitrary: fc.constantFrom('eip155:01', 'btc:main', 'rfc3161:', 'x:1'), weight: 1 },
  { arbitrary: fc.string(), weight: 1 },
);
const durationArb = fc
  .tuple(fc.integer({ min: 1, max: 500 }), fc.constantFrom('s', 'm', 'h', 'd'))
  .map(([n, u]) => `${n}${u}`);
const multipleArb = (...of: string[]): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min: 1, max: 30 }), fc.constantFrom(...of)).map(([n, u]) => `${n}*${u}`);
const everyArb = (valid: fc.Arbitrary<string>): fc.Arbitrary<unknown> =>
  fc.oneof(
    { arbitrary: valid, weight: 16 },
    {
      arbitrary: fc
        .tuple(
          fc.integer({ min: -1, max: 40_000 }),
          fc.constantFrom('s', 'm', 'h', 'd', '*fast', '*strong', '*cold', ''),
        )
        .map(([n, u]) => `${n}${u}`),
      weight: 1,
    },
    { arbitrary: fc.jsonValue(), weight: 1 },
  );
const confirmationsArb = fc.oneof(
  { arbitrary: fc.constant(0), weight: 16 },
  { arbitrary: fc.integer({ min: -2, max: 10_002 }), weight: 2 },
  { arbitrary: fc.jsonValue(), weight: 1 },
);
const levelArb = (every: fc.Arbitrary<string>): fc.Arbitrary<unknown> => {
  const members = { target: targetArb, every: everyArb(every), confirmations: confirmationsArb };
  return fc.oneof(
    { arbitrary: fc.record(members), weight: 16 },
    { arbitrary: fc.record({ ...members, extra: fc.jsonValue() }, { requiredKeys: [] }), weight: 1 },
    { arbitrary: fc.jsonValue(), weight: 1 },
  );
};
const specArb = fc.oneof(
  {
    arbitrary: fc.record(
      {
        fast: levelArb(durationArb),
        strong: levelArb(fc.oneof(durationArb, multipleArb('fast'))),
        cold: levelArb(fc.oneof(durationArb, multipleArb('fast', 'strong'))),
      },
      { requiredKeys: [] },
    ),
    weight: 8,
  },
  { arbitrary: fc.jsonValue(), weight: 1 },
  {
    arbitrary: fc.record(
      { fast: fc.jsonValue(), strong: fc.jsonValue(), cold: fc.jsonValue(), other: fc.jsonValue() },
      { requiredKeys: [] },
    ),
    weight: 1,
  },
);

test('parseCadence throws nothing but RemembrancerError POLICY_INVALID on arbitrary input (fast-check)', () => {
  fc.assert(
    fc.property(specArb, (v) => {
      try {
        const out = parseCadence(v, '/c');
        // a valid result is a fixed point and has resolvable periods
        assert.deepEqual(parseCadence(out, '/c'), out);
        cadencePeriodsMs(out);
      } catch (e) {
        assert.ok(e instanceof RemembrancerError, `threw a non-RemembrancerError: ${String(e)}`);
        assert.equal(e.code, 'POLICY_INVALID');
        assert.ok(typeof e.pointer === 'string' && e.pointer.startsWith('/c'), `pointer ${String(e.pointer)}`);
      }
    }),
    { numRuns: 2000 },
  );
});

test('periods of N*fast and N*strong are N times the referenced period (fast-check)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 3600 }),
      fc.integer({ min: 1, max: 10_000 }),
      fc.integer({ min: 1, max: 10_000 }),
      (fastS, n, m) => {
        const spec = {
          fast: { target: 'eip155:10', every: `${fastS}s`, confirmations: 1 },
          strong: { target: 'eip155:1', every: `${n}*fast`, confirmations: 2 },
          cold: { target: 'btc:mainnet', every: `${m}*strong`, confirmations: 3 },
        };
        const strongMs = n * fastS * 1000;
        if (strongMs > 366 * 86_400_000) {
          assert.throws(() => parseCadence(spec, ''), { code: 'POLICY_INVALID', pointer: '/strong/every' });
          return;
        }
        const coldMs = m * strongMs;
        if (coldMs > 366 * 86_400_000) {
          assert.throws(() => parseCadence(spec, ''), { code: 'POLICY_INVALID', pointer: '/cold/every' });
          return;
        }
        assert.deepEqual(cadencePeriodsMs(parseCadence(spec, '')), {
          fast: fastS * 1000,
          strong: strongMs,
          cold: coldMs,
        });
      },
    ),
  );
});
