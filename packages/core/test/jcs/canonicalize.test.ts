import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  MAX_JSON_DEPTH,
  RemembrancerError,
  canonicalBytes,
  canonicalize,
  parseJsonStrict,
  toHex,
} from '../../src/index.js';

const isInvalid = (e: unknown) => e instanceof RemembrancerError && e.code === 'INVALID_ARGUMENT';

// RFC 8785 §3.2.2, the sample input (as JSON text, parsed by the platform parser).
const RFC_SAMPLE = String.raw`{
  "numbers": [333333333.33333329, 1E30, 4.50,
              2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}`;

test('RFC 8785 §3.2.3: the canonical form of the §3.2.2 sample', () => {
  assert.equal(
    canonicalize(JSON.parse(RFC_SAMPLE)),
    String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`,
  );
});

test('RFC 8785 §3.2.4: the UTF-8 bytes of the canonical sample', () => {
  const expected = `
    7b 22 6c 69 74 65 72 61 6c 73 22 3a 5b 6e 75 6c 6c 2c 74 72
    75 65 2c 66 61 6c 73 65 5d 2c 22 6e 75 6d 62 65 72 73 22 3a
    5b 33 33 33 33 33 33 33 33 33 2e 33 33 33 33 33 33 33 2c 31
    65 2b 33 30 2c 34 2e 35 2c 30 2e 30 30 32 2c 31 65 2d 32 37
    5d 2c 22 73 74 72 69 6e 67 22 3a 22 e2 82 ac 24 5c 75 30 30
    30 66 5c 6e 41 27 42 5c 22 5c 5c 5c 5c 5c 22 2f 22 7d`.replace(/\s+/g, '');
  assert.equal(toHex(canonicalBytes(JSON.parse(RFC_SAMPLE))), expected);
});

test('RFC 8785 §3.2.3: property sorting by UTF-16 code units', () => {
  const input = JSON.parse(String.raw`{
    "\u20ac": "Euro Sign",
    "\r": "Carriage Return",
    "\ufb33": "Hebrew Letter Dalet With Dagesh",
    "1": "One",
    "\ud83d\ude00": "Emoji: Grinning Face",
    "\u0080": "Control",
    "\u00f6": "Latin Small Letter O With Diaeresis"
  }`) as Record<string, string>;
  // Read the order from the text: Object.values would put the integer-like key "1" first.
  const textOrder = [...canonicalize(input).matchAll(/:"([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(textOrder, [
    'Carriage Return',
    'One',
    'Control',
    'Latin Small Letter O With Diaeresis',
    'Euro Sign',
    'Emoji: Grinning Face',
    'Hebrew Letter Dalet With Dagesh',
  ]);
  assert.equal(canonicalize({ ab: 3, aa: 2, a: 1, '': 0 }), '{"":0,"a":1,"aa":2,"ab":3}');
  // Integer-like keys sort as strings, not in JavaScript's numeric property order.
  assert.equal(canonicalize({ 10: null, 1: [], d: true, 2: 0 }), '{"1":[],"10":null,"2":0,"d":true}');
  assert.equal(canonicalize([56, { d: true, 10: null, 1: [] }]), '[56,{"1":[],"10":null,"d":true}]');
});

test('RFC 8785 Appendix B: number serialization samples', () => {
  const samples: [string, string][] = [
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ];
  const view = new DataView(new ArrayBuffer(8));
  const fromBits = (hex: string): number => {
    view.setBigUint64(0, BigInt('0x' + hex));
    return view.getFloat64(0);
  };
  for (const [bits, text] of samples) assert.equal(canonicalize(fromBits(bits)), text, bits);
  for (const bits of ['7fffffffffffffff', '7ff0000000000000', 'fff0000000000000']) {
    assert.throws(() => canonicalize(fromBits(bits)), isInvalid, bits);
  }
});

test('number edge cases', () => {
  const cases: [number, string][] = [
    [1e21, '1e+21'],
    [1e20, '100000000000000000000'],
    [1e-7, '1e-7'],
    [1e-6, '0.000001'],
    [5e-324, '5e-324'],
    [-0, '0'],
    [0.1 + 0.2, '0.30000000000000004'],
    [123e-20, '1.23e-18'],
    [-1.5, '-1.5'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [2 ** 64, '18446744073709552000'],
    [Number.MIN_VALUE, '5e-324'],
    [Number.EPSILON, '2.220446049250313e-16'],
  ];
  for (const [n, text] of cases) assert.equal(canonicalize(n), text, String(n));
  assert.equal(canonicalize([-0, 0]), '[0,0]');
});

test('string escaping per RFC 8785 §3.2.2.2', () => {
  let all = '';
  for (let c = 0; c < 0x20; c++) all += String.fromCharCode(c);
  assert.equal(
    canonicalize(all),
    String.raw`"\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t\n\u000b\f\r\u000e\u000f\u0010\u0011\u0012\u0013\u0014\u0015\u0016\u0017\u0018\u0019\u001a\u001b\u001c\u001d\u001e\u001f"`,
  );
  assert.equal(canonicalize('"\\/'), String.raw`"\"\\/"`);
  // Everything else as is: DEL, C1 controls, line separators, non-BMP pairs.
  assert.equal(canonicalize('\u007f\u0080\u2028\u2029€😀'), '"\u007f\u0080\u2028\u2029€😀"');
  assert.equal(canonicalize({ 'a\nb': 'c"d' }), String.raw`{"a\nb":"c\"d"}`);
});

test('lone surrogates are refused (RFC 8785 §3.2.2.2)', () => {
  for (const s of ['\ud800', '\udead', 'a\ud83d', '\ude00b', '\ude00\ud83d']) {
    assert.throws(() => canonicalize(s), isInvalid, JSON.stringify(s));
    assert.throws(() => canonicalize({ [s]: 1 }), isInvalid);
  }
});

test('non-JSON values are refused with INVALID_ARGUMENT', () => {
  class Thing {
    a = 1;
  }
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic['self'] = cyclic;
  const cyclicArray: unknown[] = [];
  cyclicArray.push({ back: cyclicArray });
  const bad: unknown[] = [
    undefined,
    () => 1,
    10n,
    Symbol('s'),
    NaN,
    Infinity,
    -Infinity,
    cyclic,
    cyclicArray,
    new Date(0),
    new Map(),
    new Uint8Array(2),
    new Thing(),
    [1, undefined],
    // eslint-disable-next-line no-sparse-arrays
    [1, , 3],
    { a: undefined },
    { a: { b: [1, { c: () => 0 }] } },
    { [Symbol('k')]: 1 },
  ];
  for (const v of bad) assert.throws(() => canonicalize(v), isInvalid);
  assert.throws(() => canonicalize({ a: { 'b/c': [1, 2n] } }), /at \/a\/b~1c\/1/);
  assert.throws(() => canonicalBytes(undefined), isInvalid);
});

test('shared (non-cyclic) references, null-prototype objects and "__proto__" members are fine', () => {
  const shared = { x: 1 };
  assert.equal(canonicalize({ a: shared, b: [shared, shared] }), '{"a":{"x":1},"b":[{"x":1},{"x":1}]}');
  const bare = Object.create(null) as Record<string, unknown>;
  bare['z'] = 1;
  bare['y'] = [];
  assert.equal(canonicalize(bare), '{"y":[],"z":1}');
  assert.equal(canonicalize(JSON.parse('{"__proto__":{"a":1},"b":2}')), '{"__proto__":{"a":1},"b":2}');
});

test('deep nesting fails cleanly instead of crashing', () => {
  let deep: unknown = 0;
  for (let i = 0; i < 200_000; i++) deep = [deep];
  assert.throws(() => canonicalize(deep), isInvalid);
  let ok: unknown = 'x';
  for (let i = 0; i < 500; i++) ok = { k: ok };
  assert.equal(canonicalize(ok, { maxDepth: 500 }).length, 500 * 6 + 3);
});

test('nesting is bounded by MAX_JSON_DEPTH (or maxDepth), counted as parseJsonStrict counts it', () => {
  const nested = (depth: number): unknown => {
    let v: unknown = 1;
    for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v };
    return v;
  };
  assert.equal(canonicalize(nested(MAX_JSON_DEPTH)), JSON.stringify(nested(MAX_JSON_DEPTH)));
  assert.throws(
    () => canonicalize(nested(MAX_JSON_DEPTH + 1)),
    (e: unknown) => isInvalid(e) && /deeper than 128 levels/.test((e as Error).message),
  );
  assert.equal(canonicalize(nested(5), { maxDepth: 5 }), JSON.stringify(nested(5)));
  assert.throws(() => canonicalize(nested(6), { maxDepth: 5 }), isInvalid);
  // What the parser accepts at the bound canonicalizes at the same bound.
  const text = '['.repeat(MAX_JSON_DEPTH) + ']'.repeat(MAX_JSON_DEPTH);
  assert.equal(canonicalize(parseJsonStrict(text)), text);
});

test('canonicalBytes is UTF-8', () => {
  assert.equal(toHex(canonicalBytes({ é: '€😀' })), toHex(new TextEncoder().encode('{"é":"€😀"}')));
});

/** Independent oracle: JSON.stringify for leaves (its output matches JCS for JSON values), UTF-16 sort for keys. */
function oracle(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(oracle).join(',') + ']';
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + keys.map((k) => JSON.stringify(k) + ':' + oracle((v as Record<string, unknown>)[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

test('property: canonicalize(JSON.parse(canonicalize(x))) === canonicalize(x), and it matches the oracle', () => {
  for (const stringUnit of ['grapheme-ascii', 'grapheme', 'binary'] as const) {
    fc.assert(
      fc.property(fc.jsonValue({ stringUnit }), (x) => {
        let c: string;
        try {
          c = canonicalize(x);
        } catch (e) {
          // Only generated lone surrogates may be refused.
          assert.ok(isInvalid(e) && /lone surrogate/.test((e as Error).message));
          return;
        }
        assert.equal(canonicalize(JSON.parse(c)), c);
        assert.equal(c, oracle(x));
      }),
      { numRuns: 300 },
    );
  }
});
