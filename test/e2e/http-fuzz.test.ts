import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { canonicalBytes } from '@vaultmesh/core';
import { REPO_ROOT, runCli, startServe, type ServeProcess } from './harness/cli-process.js';
import {
  parseResponses,
  probe,
  processAlive,
  rawExchange,
  vmRssBytes,
  type ProbeRequest,
} from './harness/http-probe.js';

/*
 * Issue 8, must-have 9: a fuzzed HTTP surface. fast-check drives one real `serve` process with
 * generated requests for every route of docs/api.md — methods, paths built from the route
 * templates with generated segments, query strings, headers (content types, charsets,
 * credentials, the real admin token now and then) and bodies (valid, invalid, not UTF-8, deep,
 * huge) — plus, on raw sockets, requests no conforming client can make (duplicate Content-Length,
 * broken chunking, bare LF, oversized headers). After every request:
 *   - no 5xx but the documented 503/507 answers, each with its documented code;
 *   - every non-2xx JSON answer is {code, message} with a string code;
 *   - the process is alive;
 *   - nothing changed unless a write was accepted (2xx): the namespaces (ids, sizes, checkpoint
 *     sizes, versions, rules), five namespaces' checkpoints, the governance log and the registry;
 * and over the run the node's RSS grows by less than 150 MB.
 */

const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : 8_009;
const RUNS = process.env.FUZZ_RUNS !== undefined ? Number(process.env.FUZZ_RUNS) : 600;
if (!Number.isSafeInteger(SEED)) throw new Error(`FUZZ_SEED must be an integer, got ${process.env.FUZZ_SEED}`);
if (!Number.isSafeInteger(RUNS) || RUNS < 1)
  throw new Error(`FUZZ_RUNS must be a positive integer, got ${process.env.FUZZ_RUNS}`);
// The run stops early (without failing) rather than outlast this; every request is bounded too.
const TIME_LIMIT_MS = 40_000;
const RSS_GROWTH_BOUND = 150 * 1024 * 1024;
console.log(`http-fuzz: seed ${SEED}, ${RUNS} requests (replay with FUZZ_SEED=${SEED})`);

const dir = mkdtempSync(join(tmpdir(), 'remembrancer-http-fuzz-'));
const data = join(dir, 'node');
let node: ServeProcess | undefined;
let admin = '';
const WRITER_TOKEN = 'fuzz-writer-token-0123456789';

const OPEN = 'pub:fuzz';
const PRIVATE = 'priv:fuzz';
const KEYED = 'pub:keyed';
// Full from the start: every append to it is 507 QUOTA_EXCEEDED, one of the two documented 5xx.
const FULL = 'pub:full';
const FIXED = [OPEN, PRIVATE, KEYED, FULL, 'sys:governance'];
const signer = generateKeyPairSync('ed25519');
const signerPublic = signer.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');

/** Documented error codes and their status, read from the API reference: the contract under test. */
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
const DOCUMENTED = documentedErrorCodes();

const sha256Hex = (s: string) => createHash('sha256').update(s).digest('hex');

before(async () => {
  const init = await runCli(['init', '--data', data, '--name', 'fuzz.vaultmesh.local', '--json']);
  assert.equal(init.code, 0, init.stderr);
  admin = readFileSync(join(data, 'admin.token'), 'utf8').trim();
  // Checkpoints follow accepted writes within ~0.1 s, so the state settles quickly after one.
  const configFile = join(data, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({ ...(JSON.parse(readFileSync(configFile, 'utf8')) as object), checkpointIntervalMs: 100 }, null, 2),
  );
  node = await startServe(data);
  const specs: Array<[string, unknown]> = [
    [OPEN, { description: 'fuzzed' }],
    [
      PRIVATE,
      {
        visibility: 'private',
        writers: [{ id: 'bot', token_sha256: sha256Hex(WRITER_TOKEN), scopes: ['write', 'read'] }],
      },
    ],
    [KEYED, { writers: [{ id: 'treasurer', ed25519: signerPublic }] }],
    [FULL, { limits: { quota_entries: 1 } }],
  ];
  for (const [ns, spec] of specs) {
    const r = await fetch(`${node.url}/v1/ns/${ns}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify(spec),
    });
    assert.equal(r.status, 201, await r.text());
  }
  // Entries, so proofs, receipts and tiles have something to answer with.
  const r = await fetch(`${node.url}/v1/ns/${OPEN}/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ entries: Array.from({ length: 300 }, (_, i) => ({ i })) }),
  });
  assert.equal(r.status, 201, await r.text());
  const f = await fetch(`${node.url}/v1/ns/${FULL}/entries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: '{"only":1}',
  });
  assert.equal(f.status, 201, await f.text());
  const p = await fetch(`${node.url}/v1/ns/${PRIVATE}/entries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${WRITER_TOKEN}`, 'content-type': 'application/json' },
    body: '{"secret":1}',
  });
  assert.equal(p.status, 201, await p.text());
});

after(async () => {
  try {
    if (node) await node.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// ---- what a request is made of -------------------------------------------------------------------

type BodyKind = 'spec' | 'cadence' | 'entry' | 'batch' | 'governance' | 'witness' | 'registry' | 'evidence' | 'none';

interface Route {
  method: string;
  template: string;
  query?: string[];
  body: BodyKind;
}

// Every route of docs/api.md.
const ROUTES: Route[] = [
  { method: 'GET', template: '/healthz', body: 'none' },
  { method: 'GET', template: '/metrics', body: 'none' },
  { method: 'GET', template: '/v1/node', body: 'none' },
  { method: 'GET', template: '/v1/ns', body: 'none' },
  { method: 'PUT', template: '/v1/ns/{ns}', query: ['effective_after'], body: 'spec' },
  { method: 'GET', template: '/v1/ns/{ns}', body: 'none' },
  { method: 'PUT', template: '/v1/ns/{ns}/cadence', query: ['effective_after'], body: 'cadence' },
  { method: 'GET', template: '/v1/ns/{ns}/policy', body: 'none' },
  { method: 'POST', template: '/v1/ns/{ns}/entries', body: 'entry' },
  { method: 'POST', template: '/v1/ns/{ns}/batch', body: 'batch' },
  { method: 'GET', template: '/v1/ns/{ns}/entries/{index}', body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/checkpoint', query: ['sealed'], body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/proof/inclusion', query: ['index', 'size'], body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/proof/consistency', query: ['from', 'to'], body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/receipt/{index}', query: ['format', 'sealed'], body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/tile/{L}/{N}', body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/tile/{L}/{N}.p/{W}', body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/tile/entries/{N}', body: 'none' },
  { method: 'GET', template: '/v1/ns/{ns}/tile/entries/{N}.p/{W}', body: 'none' },
  { method: 'POST', template: '/v1/governance', body: 'governance' },
  { method: 'GET', template: '/v1/governance', body: 'none' },
  { method: 'POST', template: '/v1/witness/add-checkpoint', body: 'witness' },
  { method: 'GET', template: '/v1/witness/{hex}/checkpoint', body: 'none' },
  { method: 'GET', template: '/v1/federation/registry', query: ['all'], body: 'none' },
  { method: 'PUT', template: '/v1/federation/registry', body: 'registry' },
  { method: 'GET', template: '/v1/federation/status', body: 'none' },
  { method: 'GET', template: '/v1/federation/evidence', query: ['origin'], body: 'none' },
  { method: 'GET', template: '/v1/federation/peer/view', body: 'none' },
  { method: 'POST', template: '/v1/federation/evidence', body: 'evidence' },
];

const METHODS = [
  'GET',
  'HEAD',
  'POST',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'PROPFIND',
  'MKCOL',
  'SEARCH',
  'PURGE',
  'LINK',
  'FOO',
  'get',
  'G\u00e9T',
];

const nsSegment = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.constantFrom(OPEN, 'pub%3Afuzz', 'pub%3afuzz', PRIVATE, KEYED, 'sys:governance', 'sys%3Agovernance'),
  },
  { weight: 2, arbitrary: fc.constantFrom('zz:none', 'new:ns', 'a:b') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'PUB:FUZZ',
      'pub',
      ':',
      'pub:',
      ':fuzz',
      '%25',
      'pub%25fuzz',
      'pub%253Afuzz',
      '%',
      '%E0%A4%A',
      '%00',
      '%2F',
      'pub%2Ffuzz',
      '..',
      '.',
      '',
      '%2e%2e',
      'pub:fuzz%20',
      'pub:fuzz;x',
      'pub:fu%C3%BCzz',
      'pub:f\u00fcz',
      'pub:\u{1F600}',
      '-a:b',
      'a'.repeat(64) + ':b',
      'a'.repeat(63) + ':' + 'b'.repeat(63),
      'x'.repeat(300),
      'pub:fuzz\\x',
    ),
  },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => encodeURIComponent(s)) },
);

const intText = fc.oneof(
  { weight: 5, arbitrary: fc.nat({ max: 400 }).map(String) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '-1',
      '-0',
      '01',
      '+1',
      '1.0',
      '1e3',
      '0x10',
      '',
      ' 1',
      '9007199254740991',
      '9007199254740993',
      '99999999999999999999999',
      '1' + '0'.repeat(400),
      'NaN',
      'Infinity',
      '%31',
      'null',
      '1%00',
      '\u0661',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 8 }).map((s) => encodeURIComponent(s)) },
);

const tileN = fc.oneof(
  fc.nat({ max: 3 }).map((n) => String(n).padStart(3, '0')),
  fc.constantFrom('000', '001', 'x001/234', 'x000/000', '1', '0000', 'x001', '999', '-01', 'abc', '%30%30%30'),
);

const hexSegment = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  fc.constantFrom('', '00', 'zz'.repeat(32), 'A'.repeat(64), '0'.repeat(65)),
);

const queryValue = fc.oneof(
  intText,
  fc.constantFrom(
    '1',
    '0',
    'true',
    'false',
    'tlog-proof',
    'json',
    '2026-12-01T00:00:00Z',
    '2099-01-01T00:00:00Z',
    '1970-01-01T00:00:00Z',
    'now',
    '',
    '%',
    '%ZZ',
    'a&b',
    '%26',
  ),
);
const queryName = (route: Route) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(route.query ?? ['x'])) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'index',
        'size',
        'from',
        'to',
        'format',
        'sealed',
        'all',
        'origin',
        'effective_after',
        'index[]',
        '__proto__',
        'constructor',
        '',
      ),
    },
  );
const queryArb = (route: Route) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.tuple(queryName(route), queryValue), { maxLength: 4 })
        .map((pairs) => (pairs.length === 0 ? '' : '?' + pairs.map(([k, v]) => `${k}=${v}`).join('&'))),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom('?', '?&&', '?=', '?a', '?' + 'a=1&'.repeat(500), '?index=1&index=2&index=3', '#frag'),
    },
  );

const pathMutation = fc.constantFrom(
  'none',
  'none',
  'none',
  'none',
  'trailing slash',
  'dot segment',
  'dot-dot segment',
  'double slash',
  'upper case',
  'encoded slash',
  'long',
);
function mutatePath(path: string, how: string): string {
  switch (how) {
    case 'trailing slash':
      return path + '/';
    case 'dot segment':
      return path.replace(/^\/v1\//, '/v1/./');
    case 'dot-dot segment':
      return path.replace(/^\/v1\//, '/v1/ns/../');
    case 'double slash':
      return path.replace(/^\/v1\//, '/v1//');
    case 'upper case':
      return path.toUpperCase();
    case 'encoded slash':
      return path.replace(/^\/v1\//, '/v1%2F');
    case 'long':
      return path + '/' + 'a'.repeat(8_000);
    default:
      return path;
  }
}

const contentType = fc.constantFrom(
  undefined,
  'application/json',
  'application/json',
  'application/json; charset=utf-8',
  'application/json; charset=UTF-8',
  'application/json; charset="utf-8"',
  'application/json; charset=latin1',
  'application/json; charset=utf-16',
  'application/json;charset=',
  'application/json; foo=bar',
  'APPLICATION/JSON',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/merge-patch+json',
  '*/*',
  ';;;',
  'application/',
  'application/json, text/plain',
  '\u00e9/json',
);

const authorization = (): fc.Arbitrary<string | undefined> =>
  fc.constantFrom<string | undefined>(
    undefined,
    undefined,
    `Bearer ${admin}`,
    `Bearer ${admin}`,
    `Bearer ${WRITER_TOKEN}`,
    'Bearer wrong-token',
    `bearer ${admin}`,
    `Bearer  ${admin}`,
    `Bearer ${admin} extra`,
    'Bearer',
    'Bearer ',
    `Basic ${Buffer.from(`admin:${admin}`).toString('base64')}`,
    'Bearer ' + 'x'.repeat(4_000),
    `Bearer ${admin.slice(0, -1)}`,
    `Token ${admin}`,
  );

const extraHeaders = fc.array(
  fc.constantFrom<[string, string]>(
    ['if-none-match', '*'],
    ['if-match', '*'],
    ['accept', 'text/plain'],
    ['accept-encoding', 'gzip, br'],
    ['content-encoding', 'gzip'],
    ['x-forwarded-for', '10.0.0.1'],
    ['signature-input', 'sig1=("@method");keyid="x";created=1'],
    ['signature', 'sig1=:AAAA:'],
    ['content-digest', 'sha-256=:AAAA:'],
    ['range', 'bytes=0-10'],
    ['cookie', 'a=b'],
    ['x-huge', 'h'.repeat(8_000)],
    ['origin', 'http://evil.example'],
  ),
  { maxLength: 3 },
);

const jsonText = (v: unknown) => JSON.stringify(v);
function signedEntry(entry: Record<string, unknown>): Record<string, unknown> {
  const sig = sign(null, canonicalBytes(entry), signer.privateKey).toString('base64');
  return { ...entry, signatures: [{ signer: 'treasurer', sig }] };
}

const smallEntry = fc.record({ n: fc.integer(), s: fc.string({ maxLength: 20 }) });
const validBody: Record<BodyKind, fc.Arbitrary<Buffer>> = {
  none: fc.constant(Buffer.alloc(0)),
  entry: fc
    .oneof(
      smallEntry.map(jsonText),
      smallEntry.map((e) => jsonText(signedEntry(e))),
    )
    .map((s) => Buffer.from(s)),
  batch: fc
    .oneof(
      fc.array(smallEntry, { minLength: 1, maxLength: 3 }).map((es) => jsonText({ entries: es })),
      fc.array(smallEntry, { minLength: 1, maxLength: 3 }).map((es) => jsonText({ entries: es.map(signedEntry) })),
      fc.constantFrom(
        '{"entries":[]}',
        '{"entries":{}}',
        '{"entries":[1]}',
        '{"entries":[{}],"extra":1}',
        jsonText({ entries: Array.from({ length: 10_001 }, () => ({})) }),
      ),
    )
    .map((s) => Buffer.from(s)),
  spec: fc
    .constantFrom<unknown>(
      {},
      { description: 'changed' },
      { visibility: 'private' },
      { visibility: 'public' },
      { limits: { quota_entries: 0 } },
      { limits: { rate_per_second: 1, burst: 1 } },
      { schema_policy: { allow: ['x@^1.0.0'] } },
      { witness_policy: { min_required: 5, allowlist: [] } },
      { writers: [{ id: 'w', token_sha256: 'zz' }] },
      { unknown: 1 },
      null,
      [],
      'x',
      1,
    )
    .map((v) => Buffer.from(jsonText(v))),
  cadence: fc
    .constantFrom<unknown>(
      {},
      { fast: { target: 'rfc3161:local-tsa', every: '89s', confirmations: 0 } },
      { fast: { target: 'nope', every: '-1s' } },
      null,
      [],
    )
    .map((v) => Buffer.from(jsonText(v))),
  governance: fc
    .constantFrom<unknown>(
      {},
      {
        schema: 'namespace.create@1.0.0',
        namespace: 'gov:x',
        version: 1,
        spec: {},
        issued_at: '2026-01-01T00:00:00Z',
        effective_after: '2026-01-01T00:00:00Z',
        signatures: [],
      },
      {
        schema: 'schema.register@1.0.0',
        schema_id: 'x@1.0.0',
        definition: { type: 'object' },
        issued_at: '2026-01-01T00:00:00Z',
        effective_after: '2026-01-01T00:00:00Z',
        signatures: [{ signer: 'ops', sig: 'AAAA' }],
      },
    )
    .map((v) => Buffer.from(jsonText(v))),
  witness: fc
    .constantFrom(
      'old 0\n\nfuzz.vaultmesh.local/pub:fuzz\n1\nAAAA\n\n— x AAAA\n',
      'old 5\nAAAA\n\n',
      'old x\n',
      '',
      'old 0\n\n' + 'a\n'.repeat(1000),
    )
    .map((s) => Buffer.from(s)),
  registry: fc
    .constantFrom<unknown>({}, { schema: 'federation.registry.set@1.0.0', version: 1, peers: [] }, null)
    .map((v) => Buffer.from(jsonText(v))),
  evidence: fc
    .constantFrom<unknown>({}, { schema: 'federation.equivocation@1.0.0' })
    .map((v) => Buffer.from(jsonText(v))),
};

const hostileBody = fc.oneof(
  fc
    .constantFrom(
      '',
      '{',
      '}',
      '{"a":1,"a":2}',
      '\ufeff{}',
      '{"a":"\\ud800"}',
      'NaN',
      "{'a':1}",
      '[1,]',
      '{"a":1e400}',
      '{"a":-0}',
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{}}}',
      'null',
      '[]',
      '"x"',
      '1',
      'true',
    )
    .map((s) => Buffer.from(s)),
  fc.jsonValue({ maxDepth: 4 }).map((v) => Buffer.from(jsonText(v))),
  fc
    .constantFrom(
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d],
      [0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d],
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d],
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xf4, 0x90, 0x80, 0x80, 0x22, 0x7d],
      [0xfe, 0xff, 0x00, 0x7b, 0x00, 0x7d],
    )
    .map((b) => Buffer.from(b)),
  fc.constantFrom(63, 64, 65, 127, 128, 129, 5_000, 200_000).map((n) => Buffer.from('['.repeat(n) + ']'.repeat(n))),
  fc.constantFrom(63, 64, 65, 129).map((n) => Buffer.from('{"a":'.repeat(n) + '1' + '}'.repeat(n))),
  fc.constantFrom(60_000, 70_000, 300_000, 2_000_000).map((n) => Buffer.from(jsonText({ s: 'a'.repeat(n) }))),
  fc.constantFrom(1_000, 1_000_000).map((n) => Buffer.from('{"n":' + '9'.repeat(n) + '}')),
  fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)),
);

interface FuzzRequest {
  kind: 'http';
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  chunked: boolean;
}

interface RawRequest {
  kind: 'raw';
  label: string;
  bytes: Buffer;
}

/** A request the route would accept (when the namespace's rules allow it): the base that fuzzing bends. */
const goodNs = fc.constantFrom(OPEN, 'pub%3Afuzz', PRIVATE, KEYED, FULL);
const goodIndex = fc.nat({ max: 320 }).map(String);
const goodQuery = (route: Route) =>
  fc
    .record({
      a: fc.nat({ max: 320 }),
      b: fc.nat({ max: 320 }),
      flag: fc.constantFrom('0', '1', 'true', 'false'),
      format: fc.constantFrom('tlog-proof', 'json'),
      future: fc.boolean(),
    })
    .map(({ a, b, flag, format, future }) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a];
      const q: Record<string, string> = {
        index: String(lo),
        size: String(hi),
        from: String(lo),
        to: String(hi),
        sealed: flag,
        all: flag === 'true' ? '1' : flag,
        format,
        origin: `fuzz.vaultmesh.local/${OPEN}`,
        effective_after: future ? '2099-01-01T00:00:00Z' : '',
      };
      const pairs = (route.query ?? []).filter((k) => q[k] !== '').map((k) => `${k}=${encodeURIComponent(q[k]!)}`);
      return pairs.length > 0 ? '?' + pairs.join('&') : '';
    });
/** A generated segment as the node reads it (undecodable ones stay as they are). */
function decodedSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
const goodAuth = (route: Route, ns: string): string | undefined => {
  const decoded = decodedSegment(ns);
  if (['/v1/governance', '/v1/witness/add-checkpoint', '/v1/federation/evidence'].includes(route.template))
    return undefined;
  if (route.body === 'entry' || route.body === 'batch')
    return decoded === PRIVATE ? `Bearer ${WRITER_TOKEN}` : decoded === KEYED ? undefined : `Bearer ${admin}`;
  return `Bearer ${admin}`;
};
const goodEntryBody = (ns: string, kind: 'entry' | 'batch') =>
  fc.array(smallEntry, { minLength: 1, maxLength: kind === 'entry' ? 1 : 4 }).map((es) => {
    const entries = decodedSegment(ns) === KEYED ? es.map(signedEntry) : es;
    return Buffer.from(jsonText(kind === 'entry' ? entries[0] : { entries }));
  });

/** Each part of a request is the good one, or (in fuzzed requests, ~1 part in 3) a wild one. */
const part = <T>(fuzzed: boolean, good: fc.Arbitrary<T>, wild: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  fuzzed ? fc.oneof({ weight: 2, arbitrary: good }, { weight: 1, arbitrary: wild }) : good;

const httpRequest: fc.Arbitrary<FuzzRequest> = fc
  .tuple(fc.constantFrom(...ROUTES), fc.nat({ max: 9 }))
  .chain(([route, mode]) => {
    // 3 in 10 requests are good as a whole, so writes are accepted and state really moves.
    const fuzzed = mode >= 3;
    return fc
      .record({
        method: part(fuzzed, fc.constant(route.method), fc.constantFrom(...METHODS)),
        ns: part(fuzzed, goodNs, nsSegment),
        index: part(fuzzed, goodIndex, intText),
        L: part(fuzzed, fc.constantFrom('0', '1'), fc.oneof(fc.constantFrom('2', '3', '4'), intText)),
        N: part(fuzzed, fc.constantFrom('000', '001'), tileN),
        W: part(fuzzed, fc.integer({ min: 1, max: 256 }).map(String), fc.oneof(fc.constantFrom('0', '257'), intText)),
        hex: hexSegment,
        mutation: part(fuzzed, fc.constant('none'), pathMutation),
        query: part(fuzzed, goodQuery(route), queryArb(route)),
        contentType: part(
          fuzzed,
          fc.constant<string | undefined>(route.body === 'witness' ? undefined : 'application/json'),
          contentType,
        ),
        wildAuth: part(fuzzed, fc.constant<string | null>(null), authorization()),
        extra: part(fuzzed, fc.constant<Array<[string, string]>>([]), extraHeaders),
        wildBody: part(fuzzed, fc.constant<Buffer | null>(null), fc.oneof(validBody[route.body], hostileBody)),
        chunkedBit: fc.nat({ max: 9 }),
      })
      .chain((r) =>
        (r.wildBody !== null
          ? fc.constant(r.wildBody)
          : route.body === 'entry' || route.body === 'batch'
            ? goodEntryBody(r.ns, route.body)
            : validBody[route.body]
        ).map((body): FuzzRequest => {
          const path = route.template
            .replace('{ns}', r.ns)
            .replace('{index}', r.index)
            .replace('{L}', r.L)
            .replace('{N}', r.N)
            .replace('{W}', r.W)
            .replace('{hex}', r.hex);
          const headers: Record<string, string> = {};
          if (r.contentType !== undefined) headers['content-type'] = r.contentType;
          const auth = r.wildAuth === null ? goodAuth(route, r.ns) : r.wildAuth;
          if (auth !== undefined) headers.authorization = auth;
          for (const [k, v] of r.extra) headers[k] = v;
          return {
            kind: 'http',
            method: r.method,
            path: mutatePath(path, r.mutation) + r.query,
            headers,
            body,
            chunked: r.chunkedBit === 0,
          };
        }),
      );
  });

const crlf = (lines: string[]) => lines.join('\r\n');
const rawRequest: fc.Arbitrary<RawRequest> = fc
  .record({
    path: fc.constantFrom(
      '/healthz',
      `/v1/ns/${OPEN}/entries`,
      '/v1/governance',
      `/v1/ns/${OPEN}`,
      '/v1/witness/add-checkpoint',
      '/v1/federation/evidence',
    ),
    variant: fc.nat({ max: 17 }),
    auth: fc.boolean(),
  })
  .map(({ path, variant, auth }): RawRequest => {
    const a = auth ? `Authorization: Bearer ${admin}\r\n` : '';
    const post = (extra: string, body: string) =>
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${a}Content-Type: application/json\r\n${extra}\r\n${body}`;
    const variants: Array<[string, string]> = [
      ['duplicate Content-Length', post('Content-Length: 2\r\nContent-Length: 3\r\n', '{} ')],
      ['equal duplicate Content-Length', post('Content-Length: 2\r\nContent-Length: 2\r\n', '{}')],
      [
        'Content-Length and chunked',
        post('Content-Length: 2\r\nTransfer-Encoding: chunked\r\n', '2\r\n{}\r\n0\r\n\r\n'),
      ],
      ['bad chunk size', post('Transfer-Encoding: chunked\r\n', 'zz\r\n{}\r\n0\r\n\r\n')],
      ['chunk size overflow', post('Transfer-Encoding: chunked\r\n', 'ffffffffffffffffffff\r\n{}\r\n0\r\n\r\n')],
      ['chunk without CRLF', post('Transfer-Encoding: chunked\r\n', '2\r\n{}0\r\n\r\n')],
      ['negative Content-Length', post('Content-Length: -1\r\n', '{}')],
      ['Content-Length 1e3', post('Content-Length: 1e3\r\n', '{}')],
      ['huge Content-Length, short body', post('Content-Length: 99999999999999999999\r\n', '{}')],
      ['body shorter than Content-Length', post('Content-Length: 100\r\n', '{}')],
      ['header overflow', `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`],
      ['bare LF', `GET ${path} HTTP/1.1\nHost: 127.0.0.1\n${a.replace('\r\n', '\n')}\n`],
      ['obs-fold', `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Folded: a\r\n b\r\n\r\n`],
      ['space in header name', `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header: x\r\n\r\n`],
      ['HTTP/1.0 without Host', `GET ${path} HTTP/1.0\r\n\r\n`],
      ['HTTP/2 preface', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'],
      ['absolute-form target', `GET http://evil.example${path} HTTP/1.1\r\nHost: evil.example\r\n\r\n`],
      ['100 KB request target', `GET ${path}?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`],
    ];
    const [label, text] = variants[variant]!;
    return { kind: 'raw', label: `${label} → ${path}`, bytes: Buffer.from(crlf([text])) };
  });

// ---- invariants ---------------------------------------------------------------------------------

/** What no refusal may change: namespaces (with sizes and rules), five checkpoints, governance, registry. */
const timing = { snapshotMs: 0, requestMs: 0 };
const slow: string[] = [];
const closedOnes: string[] = [];
const nonJsonErrors = new Map<string, number>();
async function snapshot(url: string): Promise<string> {
  const t0 = performance.now();
  try {
    return await takeSnapshot(url);
  } finally {
    timing.snapshotMs += performance.now() - t0;
  }
}
async function takeSnapshot(url: string): Promise<string> {
  const get = async (path: string) => {
    const r = await fetch(url + path, {
      headers: { authorization: `Bearer ${admin}` },
      signal: AbortSignal.timeout(10_000),
    });
    return `${r.status} ${await r.text()}`;
  };
  // All at once: a snapshot follows most requests, so its latency is most of the run's.
  const [ns, governance, registry, ...checkpoints] = await Promise.all([
    get('/v1/ns'),
    get('/v1/governance'),
    get('/v1/federation/registry'),
    ...FIXED.map((id) => get(`/v1/ns/${id}/checkpoint`)),
  ]);
  const list = JSON.parse(ns.slice(4)) as { namespaces: Array<Record<string, unknown>> };
  const view = list.namespaces.map((n) => {
    // Due times move with the clock; everything a write could change is kept.
    const { cadence_schedule: _schedule, ...rest } = n;
    return rest;
  });
  return JSON.stringify({ view, checkpoints, governance, registry });
}

/** After an accepted write: wait until every checkpoint covers its tree and two looks agree (bounded). */
async function settledSnapshot(url: string): Promise<string> {
  const deadline = performance.now() + 5_000;
  let last = await snapshot(url);
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 120));
    const next = await snapshot(url);
    const list = (JSON.parse(next) as { view: Array<{ size?: number; checkpoint_size?: number }> }).view;
    if (next === last && list.every((n) => n.size === n.checkpoint_size)) return next;
    if (performance.now() > deadline) throw new Error('the node did not settle within 5 s after an accepted write');
    last = next;
  }
}

function describeRequest(r: FuzzRequest | RawRequest): string {
  if (r.kind === 'raw') return `raw: ${r.label}`;
  const body =
    r.body.length > 120
      ? `${r.body.length} bytes: ${JSON.stringify(r.body.subarray(0, 80).toString('latin1'))}…`
      : JSON.stringify(r.body.toString('latin1'));
  return `${r.method} ${r.path.length > 200 ? r.path.slice(0, 200) + '…' : r.path} ${JSON.stringify(Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.length > 60 ? v.slice(0, 60) + '…' : v])))}${r.chunked ? ' chunked' : ''} body ${body}`;
}

/** The answer's own faults: a 5xx that is not documented pushback, or an error body that is not {code, message}. */
function checkAnswer(
  what: string,
  status: number | undefined,
  headers: Record<string, unknown>,
  body: Buffer,
  head: boolean,
): void {
  if (status === undefined) return;
  const text = body.toString('utf8');
  const isJson = /^application\/json/i.test(typeof headers['content-type'] === 'string' ? headers['content-type'] : '');
  let parsed: { code?: unknown; message?: unknown } | undefined;
  if (isJson && !head && body.length > 0) {
    try {
      parsed = JSON.parse(text) as { code?: unknown; message?: unknown };
    } catch {
      assert.fail(`${what}: ${status} with an unparseable JSON body ${text.slice(0, 200)}`);
    }
  }
  if (status >= 500) {
    assert.ok(status === 503 || status === 507, `${what}: answered ${status} ${text.slice(0, 300)}`);
    assert.ok(
      parsed !== undefined && typeof parsed.code === 'string',
      `${what}: ${status} without a JSON code: ${text.slice(0, 300)}`,
    );
    assert.equal(
      DOCUMENTED.get(parsed.code),
      status,
      `${what}: ${status} ${parsed.code} is not documented with that status`,
    );
  }
  if (status >= 300 && parsed !== undefined) {
    assert.ok(
      typeof parsed.code === 'string' && parsed.code.length > 0 && typeof parsed.message === 'string',
      `${what}: ${status} error is not {code, message}: ${text.slice(0, 300)}`,
    );
  }
}

// ---- the run ------------------------------------------------------------------------------------

test('fuzzed HTTP surface: no undocumented 5xx, every error {code, message}, no crash, refusals change nothing, RSS bounded', async (t) => {
  const url = node!.url;
  const pid = node!.child.pid!;
  let current = await settledSnapshot(url);
  const rssBefore = vmRssBytes(pid);
  let rssPeak = rssBefore;
  const statuses = new Map<string, number>();
  const codes = new Map<string, number>();
  let requests = 0;
  let accepted = 0;
  let closedWithoutAnswer = 0;
  const started = performance.now();
  const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  // Reads are checked in groups (a snapshot costs seven requests); every write on its own. Pending
  // reads are checked before any write, so an accepted write never hides what a read changed.
  let pendingReads: string[] = [];
  let snapshots = 0;
  const checkUnchanged = async (culprits: string[]) => {
    snapshots++;
    const now = await snapshot(url);
    if (now === current) return;
    // A write accepted just before may still be reaching its checkpoint: settle, then judge.
    const settled = await settledSnapshot(url);
    assert.equal(
      settled,
      current,
      `a refused or read-only request changed the node's state; one of:\n  ${culprits.join('\n  ')}`,
    );
  };

  await fc.assert(
    fc.asyncProperty(
      fc.oneof({ weight: 9, arbitrary: httpRequest }, { weight: 1, arbitrary: rawRequest }),
      async (req) => {
        requests++;
        const what = describeRequest(req);
        const isWrite = req.kind === 'raw' || !['GET', 'HEAD'].includes(req.method);
        if (isWrite && pendingReads.length > 0) {
          await checkUnchanged(pendingReads);
          pendingReads = [];
        }
        let wroteAccepted = false;
        if (req.kind === 'raw') {
          const r = await rawExchange(url, req.bytes, 10_000);
          assert.ok(!r.timedOut, `${what}: the server held the connection 10 s after the client half-closed`);
          const answers = parseResponses(r.raw);
          if (answers.length === 0 || answers[0]!.status === undefined) closedWithoutAnswer++;
          for (const a of answers) {
            count(statuses, `${a.status ?? 'none'} (raw)`);
            checkAnswer(what, a.status, a.headers, a.body, false);
            if (a.status !== undefined && a.status < 300 && req.bytes.subarray(0, 4).toString() === 'POST')
              wroteAccepted = true;
          }
        } else {
          const p: ProbeRequest = { method: req.method, path: req.path, headers: req.headers, timeoutMs: 15_000 };
          if (req.chunked && req.body.length > 0) p.stream = { chunk: req.body, repeat: 1 };
          else if (req.body.length > 0 || !['GET', 'HEAD'].includes(req.method)) p.body = req.body;
          const t0 = performance.now();
          const r = await probe(url, p);
          timing.requestMs += performance.now() - t0;
          if (performance.now() - t0 > 1_000) slow.push(`${(performance.now() - t0).toFixed(0)} ms: ${what}`);
          if (
            r.status !== undefined &&
            r.status >= 400 &&
            !/^application\/json/i.test(String(r.headers['content-type'] ?? '')) &&
            req.method !== 'HEAD'
          ) {
            count(
              nonJsonErrors,
              `${r.status} ${String(r.headers['content-type'] ?? 'no content-type')} ← ${req.method} ${req.path.slice(0, 60)}`,
            );
          }
          if (r.status === undefined) {
            if (closedOnes.length < 10) closedOnes.push(what);
            closedWithoutAnswer++;
            // Only a body over a route's limit may be cut off without an answer.
            assert.ok(req.body.length > 64 * 1024, `${what}: connection closed without an answer (${r.error})`);
          }
          count(statuses, String(r.status ?? 'closed'));
          try {
            const code = (JSON.parse(r.body.toString('utf8')) as { code?: unknown }).code;
            if (typeof code === 'string') count(codes, `${r.status} ${code}`);
          } catch {
            // not JSON: text answers (checkpoints, metrics, tiles, the witness protocol)
          }
          checkAnswer(what, r.status, r.headers, r.body, req.method === 'HEAD');
          wroteAccepted = isWrite && r.status !== undefined && r.status >= 200 && r.status < 300;
        }
        assert.ok(processAlive(pid), `${what}: the node process died`);
        rssPeak = Math.max(rssPeak, vmRssBytes(pid));
        if (wroteAccepted) {
          accepted++;
          snapshots++;
          current = await settledSnapshot(url);
        } else if (isWrite) {
          await checkUnchanged([what]);
        } else {
          pendingReads.push(what);
          if (pendingReads.length >= 20) {
            await checkUnchanged(pendingReads);
            pendingReads = [];
          }
        }
      },
    ),
    {
      seed: SEED,
      numRuns: RUNS,
      endOnFailure: true,
      interruptAfterTimeLimit: TIME_LIMIT_MS,
      markInterruptAsFailure: false,
    },
  );
  if (pendingReads.length > 0) await checkUnchanged(pendingReads);

  const elapsed = performance.now() - started;
  const rssAfter = vmRssBytes(pid);
  t.diagnostic(
    `seed ${SEED}: ${requests} requests (${accepted} accepted writes, ${closedWithoutAnswer} closed without an answer) in ${(elapsed / 1000).toFixed(1)} s, ${snapshots} state snapshots`,
  );
  t.diagnostic(
    `time: requests ${(timing.requestMs / 1000).toFixed(1)} s, snapshots ${(timing.snapshotMs / 1000).toFixed(1)} s`,
  );
  for (const x of slow) t.diagnostic(`slow: ${x}`);
  for (const x of closedOnes) t.diagnostic(`closed without an answer: ${x}`);
  for (const [x, n] of nonJsonErrors) t.diagnostic(`error that is not JSON (${n}×): ${x}`);
  t.diagnostic(
    `statuses: ${[...statuses]
      .sort()
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')}`,
  );
  t.diagnostic(
    `codes: ${[...codes]
      .sort()
      .map(([k, v]) => `${k}×${v}`)
      .join(' ')}`,
  );
  const undocumented = [...codes.keys()].map((k) => k.split(' ')[1]!).filter((c) => !DOCUMENTED.has(c));
  if (undocumented.length > 0)
    t.diagnostic(`codes not in docs/api.md's table: ${[...new Set(undocumented)].join(', ')}`);
  t.diagnostic(
    `RSS ${(rssBefore / 2 ** 20).toFixed(0)} MiB before, ${(rssPeak / 2 ** 20).toFixed(0)} MiB peak, ${(rssAfter / 2 ** 20).toFixed(0)} MiB after`,
  );
  // Still a working node: it answers and takes a write.
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  const last = await fetch(`${url}/v1/ns/${OPEN}/entries`, {
    method: 'POST',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: '{"after":"fuzz"}',
  });
  assert.ok(
    last.status === 201 || last.status === 403 || last.status === 429 || last.status === 507,
    `a write after the run: ${last.status} ${await last.text()}`,
  );
  assert.ok(requests >= Math.min(RUNS, 100), `only ${requests} requests ran within ${TIME_LIMIT_MS} ms`);
  assert.ok(
    rssAfter - rssBefore < RSS_GROWTH_BOUND,
    `RSS grew by ${((rssAfter - rssBefore) / 2 ** 20).toFixed(1)} MiB (bound ${RSS_GROWTH_BOUND / 2 ** 20} MiB)`,
  );
});
