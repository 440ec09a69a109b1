import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  GOVERNANCE_NAMESPACE,
  MAX_ENTRY_BYTES,
  MAX_ENTRY_DEPTH,
  MAX_SCHEMA_DEFINITION_DEPTH,
  base64Encode,
  buildSchemaRegister,
  canonicalBytes,
  entryLeafData,
  isRemembrancerError,
  leafHash,
  parseJsonStrict,
  signGovernanceDocument,
  verifyReceipt,
} from '@vaultmesh/core';
import { readKeyFile } from '@vaultmesh/node';
import { REPO_ROOT, runCli, startServe, type ServeProcess } from './harness/cli-process.js';

/*
 * Issue 8, must-have 2: every entry the node accepts has a receipt that verifies offline, before
 * and after a restart. Entries are generated as raw JSON text (the server parses text, so spellings
 * such as `1.0`, `1E400`, `\u2028` or an escaped surrogate pair matter, not only the values) and
 * sent over real HTTP to one real `serve` process. The oracle for each body is core itself
 * (parseJsonStrict + entryLeafData: what the node promises to accept), cross-checked by an
 * independent canonical form (sorted keys + ECMAScript JSON.stringify, which RFC 8785 §3.2.2 is
 * defined by) and by RFC 8785's own examples, so a disagreement between the HTTP layer, storage,
 * the receipt route and the verifiers shows up as a failure here.
 */

const SEED = process.env.PROPERTY_SEED !== undefined ? Number(process.env.PROPERTY_SEED) : 20_268;
if (!Number.isSafeInteger(SEED)) throw new Error(`PROPERTY_SEED must be an integer, got ${process.env.PROPERTY_SEED}`);
// Requests, not entries: about a fifth are batches of 2–4, so ~150 generated entries in all.
const RUNS = 120;
console.log(`entry-receipts-property: seed ${SEED} (replay with PROPERTY_SEED=${SEED})`);

const NS = 'prop:entries';
const NODE_NAME = 'prop.vaultmesh.local';
const dir = mkdtempSync(join(tmpdir(), 'remembrancer-entry-prop-'));
const data = join(dir, 'node');
let node: ServeProcess | undefined;
let adminToken = '';
/** Each namespace's log key, as read before any entry was sent: the trust root of every receipt. */
const logVkeys = new Map<string, string>();

/** Documented error codes and their status, read from the API reference: the contract under test. */
const DOCUMENTED = documentedErrorCodes();

function documentedErrorCodes(): Map<string, number> {
  const text = readFileSync(join(REPO_ROOT, 'docs/api.md'), 'utf8');
  const section = text.slice(text.indexOf('## Error codes'));
  const codes = new Map<string, number>();
  for (const line of section.split('\n')) {
    const m = /^\| ((?:`[A-Z_]+`(?:, )?)+) \| (\d{3}) \|/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.matchAll(/`([A-Z_]+)`/g)) codes.set(c[1]!, Number(m[2]));
  }
  if (codes.size < 20) throw new Error('could not read the error code table of docs/api.md');
  return codes;
}

// ---------------------------------------------------------------------------------------------
// Independent reference: RFC 8785 serializes strings and numbers exactly as ECMAScript's
// JSON.stringify does (§3.2.2) and sorts member names by UTF-16 code units (§3.2.3).

function compareUtf16(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function referenceJcs(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(referenceJcs).join(',') + ']';
  const o = v as Record<string, unknown>;
  return (
    '{' +
    Object.keys(o)
      .sort(compareUtf16)
      .map((k) => JSON.stringify(k) + ':' + referenceJcs(o[k]))
      .join(',') +
    '}'
  );
}

function nestingDepth(v: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[v, 0]];
  while (stack.length > 0) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    max = Math.max(max, d + 1);
    for (const c of Object.values(x)) stack.push([c, d + 1]);
  }
  return max;
}

// ---------------------------------------------------------------------------------------------
// Generators of raw JSON text.

const WS = fc.constantFrom('', '', '', '', ' ', '\n', '\t', '\r\n', '  ');

/** Spellings inside a string literal that are valid JSON, chosen for what they do to canonical bytes. */
const VALID_UNITS = [
  '😀',
  '\\ud83d\\ude00',
  '\\uD83D\\uDE00',
  '\u{10FFFF}',
  '\\udbff\\udfff',
  '\u{10000}', // astral, raw and as escaped pairs
  '\u2028',
  '\\u2028',
  '\u2029',
  '\\u2029', // line/paragraph separators: raw in JCS, escaped by some encoders
  '\\u0000',
  '\\u001f',
  '\\u001F',
  '\\b',
  '\\f',
  '\\n',
  '\\r',
  '\\t', // controls: JCS uses the short form or lower-case \u00xx
  '\\u007f',
  '\u007f',
  '\\/',
  '\\"',
  '\\\\',
  '\\u0041', // DEL stays raw, "\/" becomes "/", "\u0041" becomes "A"
  '\ufeff',
  '\\ufeff',
  '\uffff',
  '\\uFFFE',
  'e\u0301',
  '\u00e9',
  '\u0080',
  '\u00f6',
  '\u20ac',
  '\ufb33',
  '\uff61',
  '<',
  '>',
  '&',
  "'",
];
/** Spellings that make a string invalid (lone surrogates, raw controls, bad escapes). */
const INVALID_UNITS = [
  '\\ud800',
  '\\udc00',
  '\\ude00\\ud83d',
  '\\udbff"',
  '\u0001',
  '\n',
  '\t',
  '\\x41',
  '\\u12G4',
  "\\'",
  '\\U0041',
];

// Printable ASCII (fast-check's default unit), escaped where JSON needs it.
const asciiChunk = fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s).slice(1, -1));

function stringArb(dirty: boolean): fc.Arbitrary<string> {
  const unit = dirty
    ? fc.oneof(
        { weight: 5, arbitrary: asciiChunk },
        { weight: 4, arbitrary: fc.constantFrom(...VALID_UNITS) },
        { weight: 1, arbitrary: fc.constantFrom(...INVALID_UNITS) },
      )
    : fc.oneof({ weight: 5, arbitrary: asciiChunk }, { weight: 4, arbitrary: fc.constantFrom(...VALID_UNITS) });
  return fc.array(unit, { maxLength: 6 }).map((parts) => '"' + parts.join('') + '"');
}

/** Member names whose order differs by UTF-16 code unit and by code point, or that are special to JavaScript. */
const KEY_POOL = [
  '',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'a',
  'A',
  'aa',
  'b',
  '1',
  '10',
  '2',
  '\r',
  '\u0000',
  '\u001f',
  '\u0080',
  '\u00f6',
  'é',
  'e\u0301',
  '\u20ac',
  '\ufb33',
  '\uff61',
  '\uffff',
  '😀',
  '\u{10000}',
  '\u{10FFFF}',
  '\u2028',
  ' ',
];

function allEscaped(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += '\\u' + s.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

interface Key {
  decoded: string;
  raw: string;
}

// A key from the pool (spelled plainly or every code unit escaped) or printable ASCII.
const keyArb: fc.Arbitrary<Key> = fc.oneof(
  fc
    .tuple(fc.constantFrom(...KEY_POOL), fc.boolean())
    .map(([k, esc]) => ({ decoded: k, raw: '"' + (esc ? allEscaped(k) : JSON.stringify(k).slice(1, -1)) + '"' })),
  fc.string({ maxLength: 6 }).map((k) => ({ decoded: k, raw: JSON.stringify(k) })),
);

/** Number spellings at the edges of IEEE 754 doubles and of RFC 8785's number serialization. */
const EDGE_NUMBERS = [
  '0',
  '-0',
  '0.0',
  '-0.0',
  '0e0',
  '-0E-0',
  '1.0',
  '1.000',
  '10E-1',
  '0.1e1',
  '1E2',
  '1e+2',
  '1e-2',
  '100e-2',
  '1e21',
  '1E21',
  '1e20',
  '999999999999999999999',
  '1e-6',
  '1e-7',
  '0.000001',
  '0.0000001',
  '5e-324',
  '4.9406564584124654e-324',
  '2e-324',
  '-5e-324',
  '2.2250738585072014e-308',
  '2.2250738585072011e-308',
  '1.7976931348623157e308',
  '-1.7976931348623157E+308',
  '1.7976931348623158e308',
  '1e308',
  '9007199254740991',
  '9007199254740992',
  '9007199254740993',
  '-9007199254740993',
  '18446744073709551616',
  '1e-400',
  '-1e-400',
  '123456789012345678901234567890',
  '333333333.33333329',
  '1E30',
  '4.50',
  '2e-3',
  '0.000000000000000000000000001',
  '3.141592653589793238462643383279',
];
/** Not JSON numbers, or beyond double range: the node must refuse these with 400. */
const BAD_NUMBERS = [
  '1E400',
  '-1e309',
  '1.7976931348623159e308',
  '01',
  '-01',
  '+1',
  '.5',
  '1.',
  '-',
  '1e',
  '1e+',
  '0x10',
  'NaN',
  'Infinity',
  '-Infinity',
  '1_000',
];

const doubleSpelling = fc
  .tuple(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.integer({ min: 0, max: 5 }))
  .map(([x, how]) => {
    if (Object.is(x, -0)) return '-0';
    switch (how) {
      case 0:
        return String(x);
      case 1:
        return x.toExponential();
      case 2:
        return x.toExponential().toUpperCase().replace('E+', 'E');
      case 3:
        return x.toPrecision(17);
      case 4:
        return x.toExponential(3);
      default:
        return String(x).includes('e') ? String(x) : String(x) + (String(x).includes('.') ? '000' : '.0');
    }
  });

function numberArb(dirty: boolean): fc.Arbitrary<string> {
  const valid = [
    { weight: 4, arbitrary: fc.constantFrom(...EDGE_NUMBERS) },
    { weight: 3, arbitrary: doubleSpelling },
    { weight: 1, arbitrary: fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map(String) },
  ];
  return dirty ? fc.oneof(...valid, { weight: 1, arbitrary: fc.constantFrom(...BAD_NUMBERS) }) : fc.oneof(...valid);
}

function scalarArb(dirty: boolean): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: numberArb(dirty) },
    { weight: 3, arbitrary: stringArb(dirty) },
    { weight: 1, arbitrary: fc.constantFrom('true', 'false', 'null') },
  );
}

function membersText(members: ReadonlyArray<readonly [string, Key, string, string, string]>): string {
  return members.map(([w1, k, w2, v, w3]) => w1 + k.raw + w2 + ':' + v + w3).join(',');
}

/** Nested values of bounded depth; clean ones are valid JSON by construction, dirty ones may not be. */
function valueArb(dirty: boolean): fc.Arbitrary<string> {
  const { value } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
    value: fc.oneof({ maxDepth: 4, depthSize: 'small' }, scalarArb(dirty), tie('array'), tie('object')),
    array: fc
      .tuple(fc.array(fc.tuple(WS, tie('value'), WS), { maxLength: 5 }), WS)
      .map(([xs, w]) => '[' + (xs.length === 0 ? w : xs.map((x) => x.join('')).join(',')) + ']'),
    object: (dirty
      ? fc.array(fc.tuple(WS, keyArb, WS, tie('value'), WS), { maxLength: 5 })
      : fc.uniqueArray(fc.tuple(WS, keyArb, WS, tie('value'), WS), { maxLength: 5, selector: (m) => m[1].decoded })
    ).map((ms) => '{' + membersText(ms) + '}'),
  }));
  return value;
}

/** A top-level entry object; `schema` and `signatures` are reserved members and never generated here. */
function entryObjectArb(dirty: boolean): fc.Arbitrary<string> {
  const member = fc.tuple(
    WS,
    keyArb.filter((k) => k.decoded !== 'schema' && k.decoded !== 'signatures'),
    WS,
    valueArb(dirty),
    WS,
  );
  const members = dirty
    ? fc.array(member, { maxLength: 8 })
    : fc.uniqueArray(member, { maxLength: 8, selector: (m) => m[1].decoded });
  return fc.tuple(WS, members, WS).map(([w1, ms, w2]) => w1 + '{' + membersText(ms) + '}' + w2);
}

/** A chain of `depth` containers (the entry object included) around one scalar, beside a few siblings. */
const deepArb = fc
  .record({
    depth: fc.oneof(
      { weight: 8, arbitrary: fc.integer({ min: MAX_ENTRY_DEPTH - 4, max: MAX_ENTRY_DEPTH + 6 }) },
      { weight: 1, arbitrary: fc.integer({ min: 120, max: 135 }) },
    ),
    kinds: fc.array(fc.boolean(), { minLength: 140, maxLength: 140 }),
    leaf: fc.oneof(scalarArb(false), fc.constantFrom('[]', '{}')),
    sibling: fc.option(valueArb(false), { nil: undefined }),
  })
  .map(({ depth, kinds, leaf, sibling }) => {
    let open = '';
    let close = '';
    for (let level = 2; level <= depth; level++) {
      if (kinds[level]) {
        open += '[';
        close = ']' + close;
      } else {
        open += `{"k${level}":`;
        close = '}' + close;
      }
    }
    return '{' + (sibling === undefined ? '' : `"sibling":${sibling},`) + '"deep":' + open + leaf + close + '}';
  });

/** Many members or elements: canonical size around the 65,535-byte bound, keys in non-sorted order. */
const wideArb = fc
  .record({
    n: fc.integer({ min: 100, max: 5000 }),
    shape: fc.constantFrom('object', 'array', 'empties'),
    value: scalarArb(false),
    ws: WS,
  })
  .map(({ n, shape, value, ws }) => {
    const parts: string[] = [];
    for (let i = n; i > 0; i--) {
      if (shape === 'object') parts.push(`"k${i}":${ws}${value}`);
      else if (shape === 'array') parts.push(value);
      else parts.push(i % 2 === 0 ? '[]' : '{}');
    }
    return shape === 'object' ? '{' + parts.join(',' + ws) + '}' : '{"wide":[' + parts.join(',' + ws) + ']}';
  });

/** A padding unit for long strings: its raw spelling in the body and its decoded text. */
const PAD_UNITS = ['x', 'é', '€', '😀', '\\u0001', '\\/', '\u2028', '\\"', '\\ud83d\\ude00', '\\u00e9'];

/**
 * A string whose entry lands within a few bytes of the 65,535-byte canonical bound (or anywhere
 * from 60,000 to 70,000 bytes), padded with units whose raw and canonical sizes differ.
 */
const longArb = fc
  .record({
    target: fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: MAX_ENTRY_BYTES - 3, max: MAX_ENTRY_BYTES + 3 }) },
      { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 70_000 }) },
    ),
    pad: fc.constantFrom(...PAD_UNITS),
    prefix: fc.array(fc.oneof(asciiChunk, fc.constantFrom(...VALID_UNITS)), { maxLength: 10 }),
    key: keyArb,
    nested: fc.boolean(),
  })
  .map(({ target, pad, prefix, key, nested }) => {
    const wrap = (s: string, k: string) => (nested ? `{"meta":{"n":1},"inner":{${k}:[${s}]}}` : `{${k}:${s}}`);
    const prefixRaw = prefix.join('');
    const decodedKey = JSON.stringify(key.decoded);
    const base = Buffer.byteLength(referenceJcs(JSON.parse(wrap('"' + prefixRaw + '"', decodedKey))));
    const padCanonical = Buffer.byteLength(JSON.stringify(JSON.parse('"' + pad + '"'))) - 2;
    const remaining = Math.max(0, target - base);
    const count = Math.floor(remaining / padCanonical);
    return wrap('"' + prefixRaw + pad.repeat(count) + 'x'.repeat(remaining - count * padCanonical) + '"', key.raw);
  });

const numbersArb = (dirty: boolean) =>
  fc
    .tuple(
      fc.array(numberArb(dirty), { minLength: 1, maxLength: 12 }),
      fc.array(numberArb(dirty), { maxLength: 4 }),
      WS,
    )
    .map(([xs, ys, w]) => `{"n":[${xs.join(',' + w)}],"m":{${ys.map((y, i) => `"m${i}":${w}${y}`).join(',')}}}`);

/** Every pool key at once, in a generated order: their canonical order is by UTF-16 code units. */
const keysArb = fc
  .tuple(
    fc.shuffledSubarray(KEY_POOL, { minLength: 2 }),
    fc.array(fc.boolean(), { minLength: KEY_POOL.length, maxLength: KEY_POOL.length }),
    stringArb(false),
  )
  .map(
    ([keys, esc, v]) =>
      '{' +
      keys.map((k, i) => '"' + (esc[i] ? allEscaped(k) : JSON.stringify(k).slice(1, -1)) + '":' + v).join(',') +
      '}',
  );

/** Bodies that are not one JSON object, or not JSON at all. */
const SHAPES = [
  '[]',
  '[{"a":1}]',
  'null',
  '"entry"',
  '42',
  'true',
  '{}',
  ' {} ',
  '\ufeff{"a":1}',
  '{"a":1} x',
  '{"a":1}{"b":2}',
  '{"a":1,}',
  '{"a" 1}',
  "{'a':1}",
  '{a:1}',
  '',
  ' ',
  '{"a":1',
  '{"a":[1,]}',
  '{"a":01}',
  '/* c */{}',
  '{"a":1}\u0000',
  '{"a":tru}',
  '{"a":1,"a":2}',
  '{"a":1,"\\u0061":2}',
  '{"\\ud800":1}',
  '{"a":"\\ud83d"}',
];

interface Body {
  label: string;
  text: string;
}

const entryArb: fc.Arbitrary<Body> = fc.oneof(
  { weight: 5, arbitrary: entryObjectArb(false).map((text) => ({ label: 'mixed', text })) },
  { weight: 2, arbitrary: entryObjectArb(true).map((text) => ({ label: 'mixed-dirty', text })) },
  { weight: 4, arbitrary: deepArb.map((text) => ({ label: 'deep', text })) },
  { weight: 3, arbitrary: wideArb.map((text) => ({ label: 'wide', text })) },
  { weight: 3, arbitrary: longArb.map((text) => ({ label: 'long', text })) },
  { weight: 2, arbitrary: numbersArb(false).map((text) => ({ label: 'numbers', text })) },
  { weight: 1, arbitrary: numbersArb(true).map((text) => ({ label: 'numbers-dirty', text })) },
  { weight: 2, arbitrary: keysArb.map((text) => ({ label: 'keys', text })) },
  { weight: 1, arbitrary: fc.constantFrom(...SHAPES).map((text) => ({ label: 'shape', text })) },
);

interface Request {
  route: 'entries' | 'batch';
  entries: Body[];
  body: string;
  contentType: string;
}

function summary(text: string): string {
  const shown =
    text.length > 160
      ? `${JSON.stringify(text.slice(0, 120))}…${JSON.stringify(text.slice(-30))}`
      : JSON.stringify(text);
  return `${shown} (${Buffer.byteLength(text)} bytes)`;
}

function describeRequest(r: Request): string {
  return `${r.route}[${r.entries.map((e) => e.label).join(',')}] ${summary(r.body)}`;
}

const requestArb: fc.Arbitrary<Request> = fc
  .oneof(
    {
      weight: 4,
      arbitrary: fc
        .tuple(entryArb, fc.constantFrom('application/json', 'application/json; charset=utf-8'))
        .map(([e, ct]): Request => ({ route: 'entries', entries: [e], body: e.text, contentType: ct })),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.array(entryArb, { minLength: 2, maxLength: 4 }), WS).map(([es, w]): Request => ({
        route: 'batch',
        entries: es,
        body: `{${w}"entries":${w}[${es.map((e) => e.text).join(',' + w)}]${w}}`,
        contentType: 'application/json',
      })),
    },
  )
  .map((r) => Object.assign(r, { [fc.toStringMethod]: () => describeRequest(r) }));

// ---------------------------------------------------------------------------------------------
// Known answers (RFC 8785's own examples, and the bounds exactly), always sent first.

function deepText(depth: number): string {
  return '{"d":' + '['.repeat(depth - 1) + '0' + ']'.repeat(depth - 1) + '}';
}

function sizedText(bytes: number): string {
  return '{"s":"' + 'x'.repeat(bytes - '{"s":""}'.length) + '"}';
}

interface Fixed {
  label: string;
  text: string;
  /** Exact canonical JSON the node must store, or the error code it must answer. */
  canonical?: string;
  code?: string;
}

const FIXED: Fixed[] = [
  {
    label: 'RFC 8785 §3.2.2 primitives',
    text: '{\n  "numbers": [333333333.33333329, 1E30, 4.50,\n              2e-3, 0.000000000000000000000000001],\n  "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",\n  "literals": [null, true, false]\n}',
    canonical:
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
  },
  {
    label: 'RFC 8785 §3.2.3 sorting',
    text: '{"\\u20ac":"Euro Sign","\\r":"Carriage Return","\\ufb33":"Hebrew Letter Dalet With Dagesh","1":"One","\\ud83d\\ude00":"Emoji: Grinning Face","\\u0080":"Control","\\u00f6":"Latin Small Letter O With Diaeresis"}',
    canonical:
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😀":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
  },
  {
    label: 'number spellings',
    text: '{"a":1.0,"b":-0,"c":1E2,"d":1e21,"e":5e-324,"f":1e-7,"g":9007199254740993,"h":-1e-400,"i":1.7976931348623157e308,"j":0.1e1}',
    canonical:
      '{"a":1,"b":0,"c":100,"d":1e+21,"e":5e-324,"f":1e-7,"g":9007199254740992,"h":0,"i":1.7976931348623157e+308,"j":1}',
  },
  {
    label: 'special keys',
    text: '{"__proto__":{"x":1},"":"","constructor":[],"\\uff61":1,"\\ud83d\\ude00":2}',
    canonical: '{"":"","__proto__":{"x":1},"constructor":[],"😀":2,"｡":1}',
  },
  {
    label: 'separators and controls',
    text: '{"s":"\u2028\\u2029\\u0000\\u001F\\u007f\\/\\b"}',
    canonical: '{"s":"\u2028\u2029\\u0000\\u001f\u007f/\\b"}',
  },
  { label: 'depth MAX_ENTRY_DEPTH', text: deepText(MAX_ENTRY_DEPTH), canonical: deepText(MAX_ENTRY_DEPTH) },
  { label: 'depth MAX_ENTRY_DEPTH+1', text: deepText(MAX_ENTRY_DEPTH + 1), code: 'ENTRY_TOO_DEEP' },
  { label: 'depth 128', text: deepText(128), code: 'ENTRY_TOO_DEEP' },
  { label: 'depth 129', text: deepText(129), code: 'INVALID_JSON' },
  { label: 'size MAX_ENTRY_BYTES', text: sizedText(MAX_ENTRY_BYTES), canonical: sizedText(MAX_ENTRY_BYTES) },
  { label: 'size MAX_ENTRY_BYTES+1', text: sizedText(MAX_ENTRY_BYTES + 1), code: 'ENTRY_TOO_LARGE' },
  { label: 'number beyond double range', text: '{"a":1E400}', code: 'INVALID_JSON' },
  { label: 'lone surrogate', text: '{"a":"\\udead"}', code: 'INVALID_JSON' },
];

// ---------------------------------------------------------------------------------------------
// The oracle: what core says the node must answer for a body.

type Expected = { accept: true; canonical: string } | { accept: false; codes: Set<string> };

function codeOf(e: unknown): string {
  if (isRemembrancerError(e)) return e.code;
  throw e;
}

/** Checks core's canonical bytes against the independent reference, and returns them as text. */
function canonicalOf(value: unknown): string {
  const bytes = entryLeafData(value);
  const text = Buffer.from(bytes).toString('utf8');
  assert.equal(text, referenceJcs(value), 'core canonicalize and the reference canonical form disagree');
  return text;
}

function expectEntry(value: unknown): Expected {
  try {
    return { accept: true, canonical: canonicalOf(value) };
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    return { accept: false, codes: new Set([codeOf(e)]) };
  }
}

/** Per entry, in order; a refused request has the codes any one refused member could cause. */
function expectRequest(r: Request): Expected[] | { accept: false; codes: Set<string> } {
  let parsed: unknown;
  try {
    parsed = parseJsonStrict(r.body);
  } catch (e) {
    return { accept: false, codes: new Set([codeOf(e)]) };
  }
  if (r.route === 'entries') {
    const one = expectEntry(parsed);
    if (one.accept) {
      // JSON.parse is an independent parser: where core accepts, both must read the same value.
      assert.deepEqual(parsed, JSON.parse(r.body));
      return [one];
    }
    return one;
  }
  const all = (parsed as { entries: unknown[] }).entries.map(expectEntry);
  const refused = all.filter((x): x is { accept: false; codes: Set<string> } => !x.accept);
  if (refused.length > 0) return { accept: false, codes: new Set(refused.flatMap((x) => [...x.codes])) };
  return all;
}

// ---------------------------------------------------------------------------------------------
// HTTP.

function url(path: string): string {
  assert.ok(node, 'node is running');
  return node.url + path;
}

async function http(
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; contentType: string }> {
  const res = await fetch(url(path), {
    method,
    headers: { ...(body === undefined ? {} : { authorization: `Bearer ${adminToken}` }), ...headers },
    ...(body === undefined ? {} : { body: Buffer.from(body, 'utf8') }),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text(), contentType: res.headers.get('content-type') ?? '' };
}

/** A refusal: a 4xx whose body is `{code, message}` with a documented code and that code's status. */
function refusalCode(res: { status: number; text: string }, context: string): string {
  assert.ok(res.status >= 400 && res.status < 500, `${context}: status ${res.status}, body ${res.text.slice(0, 300)}`);
  let body: { code?: unknown; message?: unknown };
  try {
    body = JSON.parse(res.text) as typeof body;
  } catch {
    assert.fail(`${context}: ${res.status} with a body that is not JSON: ${res.text.slice(0, 300)}`);
  }
  assert.equal(typeof body.code, 'string', `${context}: error body has no code: ${res.text.slice(0, 300)}`);
  assert.equal(typeof body.message, 'string', `${context}: error body has no message: ${res.text.slice(0, 300)}`);
  const code = body.code as string;
  assert.equal(
    DOCUMENTED.get(code),
    res.status,
    `${context}: ${res.status} ${code} is not a documented code with that status (docs/api.md); body ${res.text.slice(0, 300)}`,
  );
  return code;
}

interface Accepted {
  ns: string;
  index: number;
  label: string;
  leafHash: string;
  canonical: string;
  batch: boolean;
  depth: number;
}

/** Entries of NS, in index order. */
const accepted: Accepted[] = [];
/** Governance documents (entries of sys:governance) the node accepted. */
const governance: Accepted[] = [];
const refusals = new Map<string, number>();

async function send(r: Request, fixed?: Fixed): Promise<void> {
  const context = fixed ? `fixed case "${fixed.label}"` : `${describeRequest(r)} (seed ${SEED})`;
  const expected = expectRequest(r);
  const res = await http('POST', `/v1/ns/${NS}/${r.route}`, r.body, { 'content-type': r.contentType });
  // A body over the route's limit (docs/api.md "Limits", always above MAX_ENTRY_BYTES) is refused
  // before it is parsed, whatever it holds.
  const overBodyLimit = (code: string) => code === 'PAYLOAD_TOO_LARGE' && Buffer.byteLength(r.body) > MAX_ENTRY_BYTES;
  if (!Array.isArray(expected)) {
    const code = refusalCode(res, context);
    assert.ok(
      expected.codes.has(code) || overBodyLimit(code),
      `${context}: refused with ${code}, core expects ${[...expected.codes].join(' or ')}; body ${res.text.slice(0, 300)}`,
    );
    if (fixed?.code !== undefined) assert.equal(code, fixed.code, context);
    assert.equal(fixed?.canonical, undefined, `${context}: must be accepted`);
    refusals.set(code, (refusals.get(code) ?? 0) + 1);
    return;
  }
  if (res.status !== 201) {
    const code = refusalCode(res, context);
    assert.ok(
      overBodyLimit(code),
      `${context}: core accepts this, the node answered ${res.status} ${res.text.slice(0, 300)}`,
    );
    refusals.set(code, (refusals.get(code) ?? 0) + 1);
    return;
  }
  assert.equal(fixed?.code, undefined, `${context}: must be refused with ${fixed?.code}`);
  const body = JSON.parse(res.text) as {
    index?: number;
    leaf_hash?: string;
    indices?: number[];
    leaf_hashes?: string[];
  };
  const indices = r.route === 'entries' ? [body.index] : body.indices;
  const hashes = r.route === 'entries' ? [body.leaf_hash] : body.leaf_hashes;
  assert.ok(
    Array.isArray(indices) &&
      Array.isArray(hashes) &&
      indices.length === expected.length &&
      hashes.length === expected.length,
    `${context}: 201 body ${res.text}`,
  );
  expected.forEach((x, i) => {
    assert.ok(x.accept);
    if (fixed?.canonical !== undefined)
      assert.equal(x.canonical, fixed.canonical, `${context}: core's canonical form differs from the known answer`);
    // A refused request stores nothing, so accepted entries take consecutive indices from 0.
    assert.equal(indices[i], accepted.length, `${context}: index`);
    assert.equal(
      hashes[i],
      base64Encode(leafHash(Buffer.from(x.canonical, 'utf8'))),
      `${context}: leaf_hash is not the hash of the canonical entry`,
    );
    accepted.push({
      ns: NS,
      index: indices[i],
      label: `${fixed?.label ?? r.entries[i]!.label}${r.route === 'batch' ? ' (batch)' : ''}`,
      leafHash: hashes[i],
      canonical: x.canonical,
      batch: r.route === 'batch',
      depth: nestingDepth(JSON.parse(x.canonical)),
    });
  });
}

/** A JSON Schema nesting exactly `depth` levels (`not` objects, now and then an `allOf` array). */
function schemaOfDepth(depth: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  let d = 1;
  while (d < depth) {
    if (depth - d >= 2 && d % 3 === 0) {
      v = { allOf: [v] };
      d += 2;
    } else {
      v = { not: v };
      d += 1;
    }
  }
  return { description: 'separators \u2028\u2029, astral 😀, __proto__', ...v };
}

/**
 * Governance documents are entries too (of sys:governance), admitted by their own rules: a
 * schema.register wraps a definition of up to MAX_SCHEMA_DEFINITION_DEPTH levels one level deeper,
 * so the stored document nests deeper than MAX_ENTRY_DEPTH and still needs a working receipt.
 */
async function registerSchema(label: string, schemaId: string, depth: number): Promise<void> {
  const context = `schema.register "${label}" (definition depth ${depth})`;
  if (depth > MAX_SCHEMA_DEFINITION_DEPTH) {
    // core's builder refuses this too; the node must refuse it as sent, before any signature check.
    const now = new Date().toISOString();
    const unsigned = {
      schema: 'schema.register@1.0.0',
      schema_id: schemaId,
      definition: schemaOfDepth(depth),
      issued_at: now,
      effective_after: now,
    };
    const res = await http('POST', '/v1/governance', JSON.stringify(unsigned), { 'content-type': 'application/json' });
    assert.equal(refusalCode(res, context), 'GOVERNANCE_INVALID', context);
    return;
  }
  const seed = readKeyFile(join(data, 'keys', 'operator.key'), 'operator');
  const doc = signGovernanceDocument(
    buildSchemaRegister({ schema_id: schemaId, definition: schemaOfDepth(depth) }),
    `${NODE_NAME}/operator`,
    seed,
  );
  const res = await http('POST', '/v1/governance', JSON.stringify(doc), { 'content-type': 'application/json' });
  assert.equal(res.status, 201, `${context}: ${res.text.slice(0, 300)}`);
  const canonical = referenceJcs(doc);
  governance.push({
    ns: GOVERNANCE_NAMESPACE,
    index: (JSON.parse(res.text) as { index: number }).index,
    label,
    leafHash: base64Encode(leafHash(Buffer.from(canonical, 'utf8'))),
    canonical,
    batch: false,
    depth: nestingDepth(doc),
  });
}

async function waitForCheckpoint(ns: string, size: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    const res = await http('GET', `/v1/ns/${ns}`);
    last = res.text;
    if (res.status === 200 && (JSON.parse(res.text) as { checkpoint_size: number }).checkpoint_size >= size) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(
    `no checkpoint of ${ns} covering ${size} entries within 20 s; last namespace view: ${last.slice(0, 300)}`,
  );
}

async function getReceipt(a: Accepted): Promise<string> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const res = await http('GET', `/v1/ns/${a.ns}/receipt/${a.index}`);
    if (res.status === 200) return res.text;
    const code = refusalCode(res, `GET receipt ${a.index} of ${a.ns} (${a.label})`);
    assert.ok(
      code === 'NOT_YET_IN_CHECKPOINT' && Date.now() < deadline,
      `GET receipt ${a.index} of ${a.ns} (${a.label}): ${res.status} ${res.text.slice(0, 300)}`,
    );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Fetches and verifies every accepted entry's receipt offline (core's verifier), and the stored entry. */
async function checkAllReceipts(when: string): Promise<void> {
  for (const ns of [NS, GOVERNANCE_NAMESPACE]) {
    const all = [...accepted, ...governance].filter((a) => a.ns === ns);
    if (all.length === 0) continue;
    await waitForCheckpoint(ns, Math.max(...all.map((a) => a.index)) + 1);
    const view = JSON.parse((await http('GET', `/v1/ns/${ns}`)).text) as { size: number; log_vkey: string };
    assert.equal(view.log_vkey, logVkeys.get(ns), `${when}: the log key of ${ns} is unchanged`);
    // A refused request stores nothing: the log holds exactly the accepted entries.
    if (ns === NS) assert.equal(view.size, accepted.length, `${when}: ${ns} holds exactly the accepted entries`);
    for (const a of all) await checkReceipt(when, a);
  }
}

async function checkReceipt(when: string, a: Accepted): Promise<void> {
  const context = `${when}: receipt of ${a.ns} entry ${a.index} (${a.label}, depth ${a.depth}, ${Buffer.byteLength(a.canonical)} bytes)`;
  const text = await getReceipt(a);
  // Parsed as an offline verifier would parse a receipt file: strictly.
  const receipt = parseJsonStrict(text) as Record<string, unknown>;
  const verdict = verifyReceipt(receipt, { logVkeys: [logVkeys.get(a.ns)!] });
  assert.ok(verdict.ok, `${context} does not verify: ${JSON.stringify(verdict.checks)}`);
  assert.equal(receipt.index, a.index, context);
  assert.equal(receipt.leaf_hash, a.leafHash, `${context}: leaf_hash differs from the one the append answered`);
  const entryBytes = canonicalBytes(receipt.entry);
  assert.equal(
    Buffer.from(entryBytes).toString('utf8'),
    a.canonical,
    `${context}: the receipt's entry is not the stored canonical entry`,
  );
  assert.equal(base64Encode(leafHash(entryBytes)), a.leafHash, context);

  const entry = await http('GET', `/v1/ns/${a.ns}/entries/${a.index}`);
  assert.equal(entry.status, 200, `${context}: GET entry ${entry.text.slice(0, 300)}`);
  assert.ok(
    entry.text.includes(`"entry":${a.canonical},`),
    `${context}: GET entry does not carry the exact canonical bytes`,
  );
}

/** `remembrancer verify` (offline, a separate process) on a sample of receipts as served. */
async function checkWithCli(when: string, sample: Accepted[]): Promise<void> {
  await Promise.all(
    sample.map(async (a) => {
      const text = await getReceipt(a);
      const file = join(dir, `receipt-${when}-${a.ns.replace(':', '-')}-${a.index}.json`);
      writeFileSync(file, text);
      const res = await runCli(['verify', file, '--log-vkey', logVkeys.get(a.ns)!], { timeoutMs: 60_000 });
      assert.equal(
        res.code,
        0,
        `${when}: remembrancer verify of ${a.ns} entry ${a.index} (${a.label}): ${res.stdout}${res.stderr}`,
      );
      assert.match(res.stdout, /receipt verified/);
    }),
  );
}

/** The extremes first: deepest, a governance document, largest, a batch member, the known answers with special keys; then others. */
function cliSample(n: number): Accepted[] {
  const picks = new Set<Accepted>();
  const by = (f: (a: Accepted) => number) => accepted.reduce((best, a) => (f(a) > f(best) ? a : best));
  picks.add(by((a) => a.depth));
  if (governance[0]) picks.add(governance[0]);
  picks.add(by((a) => Buffer.byteLength(a.canonical)));
  const batched = accepted.find((a) => a.batch);
  if (batched) picks.add(batched);
  for (const label of ['special keys', 'RFC 8785 §3.2.3 sorting', 'separators and controls']) {
    const a = accepted.find((x) => x.label === label);
    if (a) picks.add(a);
  }
  for (let i = accepted.length - 1; picks.size < n && i >= 0; i -= 7) picks.add(accepted[i]!);
  return [...picks].slice(0, n);
}

// ---------------------------------------------------------------------------------------------

before(async () => {
  const init = await runCli(['init', '--data', data, '--name', NODE_NAME, '--json']);
  assert.equal(init.code, 0, init.stderr);
  adminToken = readFileSync(join(data, 'admin.token'), 'utf8').trim();
  node = await startServe(data);
  const created = await http('PUT', `/v1/ns/${NS}`, '{}', { 'content-type': 'application/json', 'if-none-match': '*' });
  assert.equal(created.status, 201, created.text);
  logVkeys.set(NS, (JSON.parse(created.text) as { log_vkey: string }).log_vkey);
  const gov = await http('GET', `/v1/ns/${GOVERNANCE_NAMESPACE}`);
  assert.equal(gov.status, 200, gov.text);
  logVkeys.set(GOVERNANCE_NAMESPACE, (JSON.parse(gov.text) as { log_vkey: string }).log_vkey);
});

after(async () => {
  try {
    if (node) assert.equal(await node.stop(), 0, 'serve exits cleanly on SIGTERM');
  } finally {
    node = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every append is 201 or a documented 4xx, as core predicts (known answers, then generated entries)', async (t) => {
  t.diagnostic(`seed ${SEED}, ${RUNS} generated requests`);
  for (const f of FIXED)
    await send(
      { route: 'entries', entries: [{ label: f.label, text: f.text }], body: f.text, contentType: 'application/json' },
      f,
    );
  await registerSchema('deepest schema definition', 'prop-deep@1.0.0', MAX_SCHEMA_DEFINITION_DEPTH);
  await registerSchema('schema definition one level too deep', 'prop-deeper@1.0.0', MAX_SCHEMA_DEFINITION_DEPTH + 1);
  // No shrinking: each run appends to a real log, and the printed seed and path replay the failure.
  const run = await fc.check(
    fc.asyncProperty(requestArb, (r) => send(r)),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  if (run.failed) {
    const cause = run.errorInstance instanceof Error ? run.errorInstance.message : String(run.errorInstance);
    assert.fail(`${fc.defaultReportMessage(run)}\n${cause}`);
  }
  const generated = accepted.filter((a) => !FIXED.some((f) => f.label === a.label));
  t.diagnostic(
    `accepted ${accepted.length} entries (${generated.length} generated); refused: ${JSON.stringify(Object.fromEntries(refusals))}`,
  );
  t.diagnostic(
    `deepest accepted ${Math.max(...accepted.map((a) => a.depth))}, largest ${Math.max(...accepted.map((a) => Buffer.byteLength(a.canonical)))} bytes`,
  );
  // The run is only worth something if it got both ways of every bound.
  assert.equal(governance.length, 1, 'the deepest schema registration was accepted');
  assert.ok(generated.length >= 50, `too few generated entries accepted: ${generated.length}`);
  assert.ok(
    generated.some((a) => a.batch),
    'no batch was accepted',
  );
  assert.ok(
    accepted.some((a) => a.depth === MAX_ENTRY_DEPTH) &&
      accepted.some((a) => Buffer.byteLength(a.canonical) === MAX_ENTRY_BYTES),
  );
  assert.ok(
    (refusals.get('ENTRY_TOO_DEEP') ?? 0) > 0 &&
      (refusals.get('ENTRY_TOO_LARGE') ?? 0) > 0 &&
      (refusals.get('INVALID_JSON') ?? 0) > 0,
  );
});

test('every accepted entry has a receipt that verifies offline (core and remembrancer verify)', async () => {
  assert.ok(accepted.length > 0);
  await checkAllReceipts('before restart');
  await checkWithCli('before', cliSample(4));
});

test('after a restart on the same data, every receipt is still served and verifies', async () => {
  assert.ok(node);
  assert.equal(await node.stop(), 0, 'serve exits cleanly on SIGTERM');
  node = undefined;
  node = await startServe(data);
  // The restarted node reads every entry back from disk: same bytes, same hashes, receipts verify.
  await checkAllReceipts('after restart');
  await checkWithCli('after', cliSample(2));
});
