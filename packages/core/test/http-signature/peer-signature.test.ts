import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  DEFAULT_MAX_SKEW_SECONDS,
  RemembrancerError,
  crypto,
  signRequest,
  utf8Encode,
  verifyRequestSignature,
  type SignRequestInput,
  type SignedRequestHeaders,
  type VerifyRequestSignatureInput,
} from '../../src/index.js';
import {
  PEER_SIGNATURE_COMPONENTS,
  contentDigest,
  parseSfDictionary,
  parseSignatureHeaders,
  serializeSfDictionary,
  signatureBase,
} from '../../src/http-signature/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from './arbitraries.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

const alphaSeed = new Uint8Array(32).fill(1);
const betaSeed = new Uint8Array(32).fill(2);
const keys = new Map([
  ['alpha.vaultmesh.local', crypto.ed25519PublicKey(alphaSeed)],
  ['beta.vaultmesh.local', crypto.ed25519PublicKey(betaSeed)],
]);
const lookup = (keyid: string): Uint8Array | undefined => keys.get(keyid);

const NOW = 1_750_000_000;
const BODY = enc('{"checkpoint":"alpha.vaultmesh.local/dao:vaultmesh\\n42\\n"}');
const REQUEST = {
  method: 'POST',
  targetUri: 'https://beta.vaultmesh.local:8443/v1/witness/add-checkpoint',
  body: BODY,
  keyid: 'alpha.vaultmesh.local',
  seed: alphaSeed,
  created: NOW,
  nonce: '5f0c2a9e4d7b8a61c3e0f19b2d4a6c8e',
} as const satisfies SignRequestInput;

function verifyInput(
  headers: SignedRequestHeaders,
  overrides: Partial<VerifyRequestSignatureInput> = {},
): VerifyRequestSignatureInput {
  return {
    method: REQUEST.method,
    targetUri: REQUEST.targetUri,
    headers,
    body: BODY,
    publicKey: lookup,
    now: NOW,
    ...overrides,
  };
}

function withHeader(h: SignedRequestHeaders, name: keyof SignedRequestHeaders, value: string): SignedRequestHeaders {
  return { ...h, [name]: value };
}

test('signRequest: the exact Signature-Input, signature base and Content-Digest', () => {
  const h = signRequest(REQUEST);
  assert.equal(h['content-digest'], contentDigest(BODY));
  assert.equal(
    h['signature-input'],
    'sig1=("@method" "@target-uri" "content-digest");created=1750000000;nonce="5f0c2a9e4d7b8a61c3e0f19b2d4a6c8e";keyid="alpha.vaultmesh.local";alg="ed25519"',
  );
  assert.match(h.signature, /^sig1=:[A-Za-z0-9+/]{86}==:$/);
  const expectedBase = [
    '"@method": POST',
    '"@target-uri": https://beta.vaultmesh.local:8443/v1/witness/add-checkpoint',
    `"content-digest": ${contentDigest(BODY)}`,
    '"@signature-params": ("@method" "@target-uri" "content-digest");created=1750000000;nonce="5f0c2a9e4d7b8a61c3e0f19b2d4a6c8e";keyid="alpha.vaultmesh.local";alg="ed25519"',
  ].join('\n');
  const sig = new Uint8Array(Buffer.from(h.signature.slice('sig1=:'.length, -1), 'base64'));
  assert.ok(
    crypto.ed25519Verify(keys.get('alpha.vaultmesh.local')!, utf8Encode(expectedBase), sig),
    'the signature covers exactly this base',
  );
  const parsed = parseSignatureHeaders({ signatureInput: h['signature-input'], signature: h.signature });
  assert.equal(signatureBase(parsed.signatureParams, ['POST', REQUEST.targetUri, contentDigest(BODY)]), expectedBase);
  // Ed25519 is deterministic: same input, same headers; and contentDigest may be given instead of body.
  assert.deepEqual(signRequest(REQUEST), h);
  const { body: _body, ...rest } = REQUEST;
  assert.deepEqual(signRequest({ ...rest, contentDigest: contentDigest(BODY) }), h);
});

test('round trip: verifyRequestSignature returns keyid, created and nonce', () => {
  const h = signRequest(REQUEST);
  assert.deepEqual(verifyRequestSignature(verifyInput(h)), {
    keyid: 'alpha.vaultmesh.local',
    created: NOW,
    nonce: REQUEST.nonce,
  });
  // A fixed key instead of a lookup; a second verification of the same request also passes
  // (replays are the node's nonce cache's business).
  assert.equal(
    verifyRequestSignature(verifyInput(h, { publicKey: keys.get('alpha.vaultmesh.local')! })).nonce,
    REQUEST.nonce,
  );
  // Defaults: created is now, nonce is 128 random bits, so two signatures differ.
  const a = signRequest({ ...REQUEST, created: undefined, nonce: undefined });
  const b = signRequest({ ...REQUEST, created: undefined, nonce: undefined });
  const now = Math.floor(Date.now() / 1000);
  const va = verifyRequestSignature(verifyInput(a, { now }));
  const vb = verifyRequestSignature(verifyInput(b, { now }));
  assert.match(va.nonce, /^[0-9a-f]{32}$/);
  assert.notEqual(va.nonce, vb.nonce);
  assert.ok(Math.abs(va.created - now) <= 1);
  // A GET with an empty body and a query string.
  const get = {
    ...REQUEST,
    method: 'GET',
    targetUri: 'https://beta.vaultmesh.local/v1/federation/status?since=3&x=%2F',
    body: new Uint8Array(),
  };
  verifyRequestSignature({
    ...verifyInput(signRequest(get)),
    method: 'GET',
    targetUri: get.targetUri,
    body: new Uint8Array(),
  });
});

test('other labels, extra signatures, multi-line and padded headers', () => {
  const h = signRequest({ ...REQUEST, label: 'peer' });
  assert.ok(h['signature-input'].startsWith('peer=('));
  verifyRequestSignature(verifyInput(h, { label: 'peer' }));
  assert.throws(() => verifyRequestSignature(verifyInput(h)), { code: 'SIGNATURE_MISSING' });
  // A second signature (say, a proxy's) next to ours, sent as separate field lines.
  const other = signRequest({ ...REQUEST, label: 'proxy', keyid: 'beta.vaultmesh.local', seed: betaSeed });
  const both = {
    'signature-input': [signRequest(REQUEST)['signature-input'], other['signature-input']],
    signature: [`  ${signRequest(REQUEST).signature}`, `${other.signature}\t`],
    'content-digest': ` ${h['content-digest']} `,
  };
  const r = verifyRequestSignature({ ...verifyInput(h), headers: both });
  assert.equal(r.keyid, 'alpha.vaultmesh.local');
  assert.equal(
    verifyRequestSignature({ ...verifyInput(h), headers: both, label: 'proxy' }).keyid,
    'beta.vaultmesh.local',
  );
});

test('tampering: every signed part fails with the code the node maps', () => {
  const h = signRequest(REQUEST);
  const si = h['signature-input'];
  const flipByte = (sigField: string, i: number): string => {
    const raw = Buffer.from(sigField.slice('sig1=:'.length, -1), 'base64');
    raw[i]! ^= 0x01;
    return `sig1=:${raw.toString('base64')}:`;
  };
  const otherBody = enc('{"checkpoint":"forged"}');
  const cases: Array<[string, VerifyRequestSignatureInput, string]> = [
    ['method', verifyInput(h, { method: 'PUT' }), 'SIGNATURE_INVALID'],
    ['method case', verifyInput(h, { method: 'post' }), 'SIGNATURE_INVALID'],
    [
      'target URI path',
      verifyInput(h, { targetUri: 'https://beta.vaultmesh.local:8443/v1/witness/add-checkpoinT' }),
      'SIGNATURE_INVALID',
    ],
    [
      'target URI host',
      verifyInput(h, { targetUri: 'https://gamma.vaultmesh.local:8443/v1/witness/add-checkpoint' }),
      'SIGNATURE_INVALID',
    ],
    ['target URI query', verifyInput(h, { targetUri: REQUEST.targetUri + '?x=1' }), 'SIGNATURE_INVALID'],
    [
      'target URI scheme',
      verifyInput(h, { targetUri: REQUEST.targetUri.replace('https:', 'http:') }),
      'SIGNATURE_INVALID',
    ],
    ['raw non-ASCII in the path', verifyInput(h, { targetUri: REQUEST.targetUri + '\u00e9' }), 'SIGNATURE_INVALID'],
    ['body', verifyInput(h, { body: otherBody }), 'CONTENT_DIGEST_MISMATCH'],
    [
      'body and a matching digest header',
      verifyInput(withHeader(h, 'content-digest', contentDigest(otherBody)), { body: otherBody }),
      'SIGNATURE_INVALID',
    ],
    [
      'digest header of another body',
      verifyInput(withHeader(h, 'content-digest', contentDigest(otherBody))),
      'SIGNATURE_INVALID',
    ],
    [
      'digest header gains a sha-512 member',
      verifyInput(
        withHeader(h, 'content-digest', `${h['content-digest']}, sha-512=:${Buffer.alloc(64).toString('base64')}:`),
      ),
      'SIGNATURE_INVALID',
    ],
    [
      'digest header removed',
      verifyInput({ ...h, 'content-digest': undefined } as unknown as SignedRequestHeaders),
      'CONTENT_DIGEST_MISMATCH',
    ],
    [
      'digest header malformed',
      verifyInput(withHeader(h, 'content-digest', 'sha-256=:abc')),
      'CONTENT_DIGEST_MISMATCH',
    ],
    [
      'digest header without sha-256',
      verifyInput(withHeader(h, 'content-digest', `sha-512=:${Buffer.alloc(64).toString('base64')}:`)),
      'CONTENT_DIGEST_MISMATCH',
    ],
    [
      'created',
      verifyInput(withHeader(h, 'signature-input', si.replace('created=1750000000', 'created=1750000001'))),
      'SIGNATURE_INVALID',
    ],
    [
      'nonce',
      verifyInput(withHeader(h, 'signature-input', si.replace('nonce="5f0c', 'nonce="6f0c'))),
      'SIGNATURE_INVALID',
    ],
    [
      'keyid of another known peer',
      verifyInput(withHeader(h, 'signature-input', si.replace('alpha.vaultmesh.local', 'beta.vaultmesh.local'))),
      'SIGNATURE_INVALID',
    ],
    [
      'keyid unknown',
      verifyInput(withHeader(h, 'signature-input', si.replace('alpha.vaultmesh.local', 'gamma.vaultmesh.local'))),
      'PEER_KEY_UNKNOWN',
    ],
    [
      'components reordered',
      verifyInput(withHeader(h, 'signature-input', si.replace('"@method" "@target-uri"', '"@target-uri" "@method"'))),
      'SIGNATURE_INVALID',
    ],
    [
      'parameters reordered',
      verifyInput(
        withHeader(
          h,
          'signature-input',
          si
            .replace(';created=1750000000;nonce=', ';nonce=')
            .replace(';alg="ed25519"', ';alg="ed25519";created=1750000000'),
        ),
      ),
      'SIGNATURE_INVALID',
    ],
    ['signature byte 0', verifyInput(withHeader(h, 'signature', flipByte(h.signature, 0))), 'SIGNATURE_INVALID'],
    ['signature byte 31', verifyInput(withHeader(h, 'signature', flipByte(h.signature, 31))), 'SIGNATURE_INVALID'],
    ['signature byte 63', verifyInput(withHeader(h, 'signature', flipByte(h.signature, 63))), 'SIGNATURE_INVALID'],
    [
      'signature of another request',
      verifyInput(withHeader(h, 'signature', signRequest({ ...REQUEST, nonce: 'x' }).signature)),
      'SIGNATURE_INVALID',
    ],
    [
      'signed by a key other than keyid names',
      verifyInput(signRequest({ ...REQUEST, seed: betaSeed })),
      'SIGNATURE_INVALID',
    ],
    [
      'alg',
      verifyInput(withHeader(h, 'signature-input', si.replace('alg="ed25519"', 'alg="hmac-sha256"'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'alg removed',
      verifyInput(withHeader(h, 'signature-input', si.replace(';alg="ed25519"', ''))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'component dropped',
      verifyInput(withHeader(h, 'signature-input', si.replace(' "content-digest"', ''))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'component added',
      verifyInput(withHeader(h, 'signature-input', si.replace('"content-digest"', '"content-digest" "date"'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'component replaced',
      verifyInput(withHeader(h, 'signature-input', si.replace('"@target-uri"', '"@path"'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'component duplicated',
      verifyInput(withHeader(h, 'signature-input', si.replace('"content-digest"', '"@method"'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'component parameter',
      verifyInput(withHeader(h, 'signature-input', si.replace('"content-digest"', '"content-digest";sf'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'extra parameter',
      verifyInput(withHeader(h, 'signature-input', si + ';expires=1750000100')),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'created as a string',
      verifyInput(withHeader(h, 'signature-input', si.replace('created=1750000000', 'created="1750000000"'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'created negative',
      verifyInput(withHeader(h, 'signature-input', si.replace('created=1750000000', 'created=-1'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'created decimal',
      verifyInput(withHeader(h, 'signature-input', si.replace('created=1750000000', 'created=1750000000.0'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'nonce empty',
      verifyInput(withHeader(h, 'signature-input', si.replace(/nonce="[0-9a-f]+"/, 'nonce=""'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'nonce too long',
      verifyInput(withHeader(h, 'signature-input', si.replace(/nonce="[0-9a-f]+"/, `nonce="${'n'.repeat(129)}"`))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'nonce as a token',
      verifyInput(withHeader(h, 'signature-input', si.replace(/nonce="([0-9a-f]+)"/, 'nonce=n$1'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'keyid empty',
      verifyInput(withHeader(h, 'signature-input', si.replace('keyid="alpha.vaultmesh.local"', 'keyid=""'))),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'duplicate created',
      verifyInput(withHeader(h, 'signature-input', si + ';created=1')),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    ['duplicate label', verifyInput(withHeader(h, 'signature-input', `${si}, ${si}`)), 'SIGNATURE_INPUT_MALFORMED'],
    ['short signature', verifyInput(withHeader(h, 'signature', 'sig1=:AAAA:')), 'SIGNATURE_INPUT_MALFORMED'],
    [
      'signature input removed',
      verifyInput({ ...h, 'signature-input': undefined } as unknown as SignedRequestHeaders),
      'SIGNATURE_INPUT_MALFORMED',
    ],
    [
      'both removed',
      verifyInput({ 'content-digest': h['content-digest'] } as unknown as SignedRequestHeaders),
      'SIGNATURE_MISSING',
    ],
    [
      'label renamed',
      verifyInput({
        ...h,
        'signature-input': si.replace('sig1=', 'sig2='),
        signature: h.signature.replace('sig1=', 'sig2='),
      }),
      'SIGNATURE_MISSING',
    ],
  ];
  for (const [why, input, code] of cases) {
    assert.throws(() => verifyRequestSignature(input), { code }, why);
  }
  // The untouched request still verifies.
  verifyRequestSignature(verifyInput(h));
});

test('skew window: ±120 s by default, boundaries included, the message says how far off', () => {
  const h = signRequest(REQUEST);
  assert.equal(DEFAULT_MAX_SKEW_SECONDS, 120);
  for (const now of [NOW - 120, NOW - 1, NOW, NOW + 1, NOW + 120, NOW + 120.9]) {
    assert.equal(verifyRequestSignature(verifyInput(h, { now })).created, NOW, `now ${now}`);
  }
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 121 })), {
    code: 'SIGNATURE_EXPIRED',
    message: /is 121 s off .*121 s in the past.*±120 s/,
  });
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW - 121 })), {
    code: 'SIGNATURE_EXPIRED',
    message: /is 121 s off .*121 s in the future.*±120 s/,
  });
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 86_400 })), {
    code: 'SIGNATURE_EXPIRED',
    message: /86400 s off/,
  });
  // A custom window, including zero.
  verifyRequestSignature(verifyInput(h, { now: NOW + 300, maxSkewSeconds: 300 }));
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 301, maxSkewSeconds: 300 })), {
    code: 'SIGNATURE_EXPIRED',
    message: /±300 s/,
  });
  verifyRequestSignature(verifyInput(h, { now: NOW, maxSkewSeconds: 0 }));
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 1, maxSkewSeconds: 0 })), {
    code: 'SIGNATURE_EXPIRED',
  });
  // Signature before clock: a forged created is a bad signature, not an expired one.
  const forged = withHeader(
    h,
    'signature-input',
    h['signature-input'].replace('created=1750000000', 'created=1000000000'),
  );
  assert.throws(() => verifyRequestSignature(verifyInput(forged)), { code: 'SIGNATURE_INVALID' });
  // Key lookup comes before the clock too: an old request by an unknown peer is an unknown key.
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 1000, publicKey: () => undefined })), {
    code: 'PEER_KEY_UNKNOWN',
  });
  // Expired and with a tampered body: the clock is checked first, once the signature holds.
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: NOW + 1000, body: enc('x') })), {
    code: 'SIGNATURE_EXPIRED',
  });
});

test('caller mistakes are INVALID_ARGUMENT', () => {
  const bad: Array<[string, SignRequestInput]> = [
    ['lowercase method', { ...REQUEST, method: 'post' }],
    ['empty method', { ...REQUEST, method: '' }],
    ['method with space', { ...REQUEST, method: 'PO ST' }],
    ['relative URI', { ...REQUEST, targetUri: '/v1/witness/add-checkpoint' }],
    ['URI not normalized (host case)', { ...REQUEST, targetUri: 'https://Beta.vaultmesh.local/x' }],
    ['URI not normalized (default port)', { ...REQUEST, targetUri: 'https://beta.vaultmesh.local:443/x' }],
    ['URI not normalized (no path)', { ...REQUEST, targetUri: 'https://beta.vaultmesh.local' }],
    ['URI with fragment', { ...REQUEST, targetUri: 'https://beta.vaultmesh.local/x#frag' }],
    ['URI with userinfo', { ...REQUEST, targetUri: 'https://u:p@beta.vaultmesh.local/x' }],
    ['URI not http', { ...REQUEST, targetUri: 'ftp://beta.vaultmesh.local/x' }],
    ['seed too short', { ...REQUEST, seed: new Uint8Array(31) }],
    ['keyid empty', { ...REQUEST, keyid: '' }],
    ['keyid with newline', { ...REQUEST, keyid: 'a\nb' }],
    ['keyid too long', { ...REQUEST, keyid: 'k'.repeat(257) }],
    ['nonce empty', { ...REQUEST, nonce: '' }],
    ['nonce non-ASCII', { ...REQUEST, nonce: 'n\u00f6nce' }],
    ['created negative', { ...REQUEST, created: -1 }],
    ['created fractional', { ...REQUEST, created: 1.5 }],
    ['label not a key', { ...REQUEST, label: 'Sig1' }],
    ['both body and contentDigest', { ...REQUEST, contentDigest: contentDigest(BODY) } as unknown as SignRequestInput],
    ['neither body nor contentDigest', { ...REQUEST, body: undefined } as unknown as SignRequestInput],
    [
      'contentDigest without sha-256',
      { ...REQUEST, body: undefined, contentDigest: `sha-512=:${Buffer.alloc(64).toString('base64')}:` },
    ],
    ['contentDigest malformed', { ...REQUEST, body: undefined, contentDigest: 'sha-256=abc' }],
    ['contentDigest padded', { ...REQUEST, body: undefined, contentDigest: ` ${contentDigest(BODY)}` }],
  ];
  for (const [why, input] of bad) assert.throws(() => signRequest(input), { code: 'INVALID_ARGUMENT' }, why);
  const h = signRequest(REQUEST);
  assert.throws(() => verifyRequestSignature(verifyInput(h, { now: Number.NaN })), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => verifyRequestSignature(verifyInput(h, { maxSkewSeconds: -1 })), { code: 'INVALID_ARGUMENT' });
  assert.throws(() => verifyRequestSignature(verifyInput(h, { publicKey: new Uint8Array(31) })), {
    code: 'INVALID_ARGUMENT',
  });
  assert.throws(() => verifyRequestSignature(verifyInput(h, { body: 'x' as unknown as Uint8Array })), {
    code: 'INVALID_ARGUMENT',
  });
});

test('parseSignatureHeaders: the profile, parsed', () => {
  const h = signRequest(REQUEST);
  const p = parseSignatureHeaders({ signatureInput: h['signature-input'], signature: h.signature });
  assert.equal(p.label, 'sig1');
  assert.deepEqual(p.components, [...PEER_SIGNATURE_COMPONENTS]);
  assert.deepEqual(p.params, { created: NOW, nonce: REQUEST.nonce, keyid: REQUEST.keyid, alg: 'ed25519' });
  assert.equal(p.signature.length, 64);
  assert.equal(serializeSfDictionary(new Map([['sig1', p.signatureParams]])), h['signature-input']);
  // Components in another order and parameters in another order still fit the profile (the order is signed).
  const reordered = 'sig1=("content-digest" "@method" "@target-uri");alg="ed25519";keyid="k";nonce="n";created=0';
  const q = parseSignatureHeaders({ signatureInput: reordered, signature: h.signature });
  assert.deepEqual(q.components, ['content-digest', '@method', '@target-uri']);
  assert.deepEqual(q.params, { created: 0, nonce: 'n', keyid: 'k', alg: 'ed25519' });
});

test('property: sign then verify holds for any request, and a changed body never verifies', () => {
  const method = fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH');
  const path = fc
    .array(fc.stringMatching(/^[A-Za-z0-9._~%!$&'()*+,;=:@-]{0,8}$/), { maxLength: 4 })
    .map((segs) => '/' + segs.join('/'));
  const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%._~-]{0,12}$/), { nil: undefined });
  const uri = fc
    .tuple(fc.constantFrom('https://beta.vaultmesh.local', 'http://127.0.0.1:7001', 'https://[::1]:8443'), path, query)
    .map(([origin, p, q]) => new URL(origin + p + (q === undefined ? '' : '?' + q)).href);
  const keyid = fc.string({
    unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    minLength: 1,
    maxLength: 40,
  });
  fc.assert(
    fc.property(
      method,
      uri,
      fc.uint8Array({ maxLength: 200 }),
      keyid,
      keyid,
      fc.integer({ min: 0, max: 2 ** 40 }),
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      (m, u, body, kid, nonce, created, seed) => {
        const h = signRequest({ method: m, targetUri: u, body, keyid: kid, seed, created, nonce });
        const pub = crypto.ed25519PublicKey(seed);
        const r = verifyRequestSignature({
          method: m,
          targetUri: u,
          headers: h,
          body,
          publicKey: (k) => (k === kid ? pub : undefined),
          now: created,
        });
        assert.deepEqual(r, { keyid: kid, created, nonce });
        const changed = Uint8Array.from([...body, 0]);
        assert.throws(
          () =>
            verifyRequestSignature({
              method: m,
              targetUri: u,
              headers: h,
              body: changed,
              publicKey: pub,
              now: created,
            }),
          { code: 'CONTENT_DIGEST_MISMATCH' },
        );
      },
    ),
    { numRuns: 200 },
  );
});

test('property: mutated headers are rejected with a RemembrancerError unless they mean the same signature', () => {
  const h = signRequest(REQUEST);
  const original = serializeSfDictionary(parseSfDictionary(h['signature-input']));
  const field = fc.constantFrom<keyof SignedRequestHeaders>('signature-input', 'signature', 'content-digest');
  fc.assert(
    fc.property(
      field,
      fc.oneof(
        mutated(fc.constant(h['signature-input'])),
        mutated(fc.constant(h.signature)),
        mutated(fc.constant(h['content-digest'])),
        nastyString,
      ),
      (name, value) => {
        const headers = withHeader(h, name, value);
        const r = onlyRemembrancerErrors(() => verifyRequestSignature(verifyInput(headers)));
        onlyRemembrancerErrors(() =>
          parseSignatureHeaders({ signatureInput: headers['signature-input'], signature: headers.signature }),
        );
        if (r !== undefined) {
          // Success is only possible when the mutation kept the meaning: same signature parameters,
          // same signature bytes, same Content-Digest value (up to surrounding whitespace).
          assert.deepEqual(r, { keyid: REQUEST.keyid, created: NOW, nonce: REQUEST.nonce });
          assert.equal(serializeSfDictionary(parseSfDictionary(headers['signature-input'])), original);
          assert.deepEqual(parseSfDictionary(headers.signature), parseSfDictionary(h.signature));
          assert.equal(headers['content-digest'].trim(), h['content-digest']);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('errors carry a cause where one layer wraps another', () => {
  const h = signRequest(REQUEST);
  try {
    verifyRequestSignature(verifyInput(withHeader(h, 'signature-input', 'sig1=(')));
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof RemembrancerError && e.code === 'SIGNATURE_INPUT_MALFORMED');
    assert.ok(e.cause instanceof RemembrancerError && e.cause.code === 'INVALID_ENCODING');
  }
});
