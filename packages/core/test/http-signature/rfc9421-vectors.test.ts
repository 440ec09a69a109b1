import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { crypto, utf8Encode } from '../../src/index.js';
import {
  formatSignatureFields,
  parseSfDictionary,
  parseSignatureFields,
  serializeSfDictionary,
  serializeSfInnerList,
  sfInteger,
  sfItem,
  sfString,
  signatureBase,
  type SfInnerList,
} from '../../src/http-signature/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from './arbitraries.js';

// Everything below is transcribed from RFC 9421 (https://www.rfc-editor.org/rfc/rfc9421), with the
// RFC 8792 '\' line wrapping undone: a backslash at the end of a line and the newline and leading
// whitespace of the next line are removed.

const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

// B.1.4 Example Ed25519 Test Key, PKCS#8 / SPKI PEM bodies and JWK members.
const ED25519_PRIVATE_PKCS8 = 'MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF';
const ED25519_PUBLIC_SPKI = 'MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=';
const ED25519_JWK = {
  d: 'n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU',
  x: 'JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs',
};
const seed = b64(ED25519_PRIVATE_PKCS8).subarray(16); // after the 16-byte PKCS#8 prefix (RFC 8410)
const publicKey = b64(ED25519_PUBLIC_SPKI).subarray(12); // after the 12-byte SPKI prefix

// B.1.5 Example Shared Secret.
const SHARED_SECRET = b64('uzvJfB4u3N0Jy4T7NZ75MDVcr8zSTInedJtkgcu46YW4XByzNJjxBdtjUkdJPBtbmHhIDi6pcl8jsasjlTMtDQ==');

// B.2 test-request: POST /foo?param=Value&Pet=dog HTTP/1.1 to example.com.
const TEST_REQUEST = {
  '@method': 'POST',
  '@authority': 'example.com',
  '@path': '/foo',
  '@query': '?param=Value&Pet=dog',
  date: 'Tue, 20 Apr 2021 02:07:55 GMT',
  'content-type': 'application/json',
  'content-digest':
    'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
  'content-length': '18',
} as const;

/** The value of each covered component of `input`, derived from TEST_REQUEST. */
function valuesFor(input: SfInnerList): string[] {
  return input.items.map((item) => {
    const name = item.value.value as string;
    if (name === '@query-param') {
      const wanted = item.params.get('name');
      assert.ok(wanted?.type === 'string');
      return new URLSearchParams(TEST_REQUEST['@query']).get(wanted.value) ?? assert.fail('no such query parameter');
    }
    const v = (TEST_REQUEST as Record<string, string>)[name];
    assert.ok(v !== undefined, `test-request has no ${name}`);
    return v;
  });
}

function inputOf(signatureInput: string, label: string): SfInnerList {
  const m = parseSfDictionary(signatureInput).get(label);
  assert.ok(m !== undefined && 'items' in m);
  return m;
}

test('B.1.4: the Ed25519 test key (PKCS#8, SPKI and JWK agree)', () => {
  assert.equal(seed.length, 32);
  assert.equal(Buffer.from(seed).toString('base64url'), ED25519_JWK.d);
  assert.equal(Buffer.from(publicKey).toString('base64url'), ED25519_JWK.x);
  assert.deepEqual(crypto.ed25519PublicKey(seed), publicKey);
});

test('B.2.6 Signing a Request Using ed25519: signature base, signature and fields byte for byte', () => {
  const signatureInputField =
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"';
  const signatureField =
    'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:';
  const expectedBase = [
    '"date": Tue, 20 Apr 2021 02:07:55 GMT',
    '"@method": POST',
    '"@path": /foo',
    '"@authority": example.com',
    '"content-type": application/json',
    '"content-length": 18',
    '"@signature-params": ("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
  ].join('\n');

  const field = parseSignatureFields({
    signatureInput: signatureInputField,
    signature: signatureField,
    label: 'sig-b26',
  });
  const base = signatureBase(field.input, valuesFor(field.input));
  assert.equal(base, expectedBase);
  assert.ok(!base.endsWith('\n'), 'no newline after the @signature-params line');
  assert.ok(crypto.ed25519Verify(publicKey, utf8Encode(base), field.signature), 'the RFC signature verifies');
  // Ed25519 is deterministic (RFC 8032): signing the base with the test key gives the RFC's bytes.
  const signature = crypto.ed25519Sign(seed, utf8Encode(base));
  assert.deepEqual(signature, field.signature);
  assert.deepEqual(formatSignatureFields('sig-b26', field.input, signature), {
    'signature-input': signatureInputField,
    signature: signatureField,
  });

  // Any change to the base breaks the signature.
  for (const changed of [
    base.replace('POST', 'GET'),
    base.replace('created=1618884473', 'created=1618884474'),
    base + '\n',
    base.replace('/foo', '/foo/'),
  ]) {
    assert.ok(!crypto.ed25519Verify(publicKey, utf8Encode(changed), field.signature));
  }
  // The same input built by hand rather than parsed.
  const byHand: SfInnerList = {
    items: ['date', '@method', '@path', '@authority', 'content-type', 'content-length'].map((n) => sfItem(sfString(n))),
    params: new Map([
      ['created', sfInteger(1618884473)],
      ['keyid', sfString('test-key-ed25519')],
    ]),
  };
  assert.equal(signatureBase(byHand, valuesFor(byHand)), expectedBase);
});

test('B.2.5 Signing a Request Using hmac-sha256: the base gives the RFC HMAC', () => {
  const signatureInputField =
    'sig-b25=("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"';
  const input = inputOf(signatureInputField, 'sig-b25');
  const base = signatureBase(input, valuesFor(input));
  assert.equal(
    base,
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@authority": example.com\n"content-type": application/json\n"@signature-params": ("date" "@authority" "content-type");created=1618884473;keyid="test-shared-secret"',
  );
  assert.equal(
    createHmac('sha256', SHARED_SECRET).update(base).digest('base64'),
    'pxcQw6G3AjtMBQjwo8XzkZf/bws5LelbaMk5rGIGtE8=',
  );
});

test('§2.5, B.2.1, B.2.2, B.2.3: signature bases of the other request examples', () => {
  const cases: Array<[string, string, string[]]> = [
    [
      'sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884473;keyid="test-key-rsa-pss"',
      'sig1',
      [
        '"@method": POST',
        '"@authority": example.com',
        '"@path": /foo',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
        '"content-length": 18',
        '"content-type": application/json',
        '"@signature-params": ("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884473;keyid="test-key-rsa-pss"',
      ],
    ],
    [
      'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"',
      'sig-b21',
      ['"@signature-params": ();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'],
    ],
    [
      'sig-b22=("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
      'sig-b22',
      [
        '"@authority": example.com',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
        '"@query-param";name="Pet": dog',
        '"@signature-params": ("@authority" "content-digest" "@query-param";name="Pet");created=1618884473;keyid="test-key-rsa-pss";tag="header-example"',
      ],
    ],
    [
      'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
      'sig-b23',
      [
        '"date": Tue, 20 Apr 2021 02:07:55 GMT',
        '"@method": POST',
        '"@path": /foo',
        '"@query": ?param=Value&Pet=dog',
        '"@authority": example.com',
        '"content-type": application/json',
        '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:',
        '"content-length": 18',
        '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"',
      ],
    ],
  ];
  for (const [field, label, lines] of cases) {
    const input = inputOf(field, label);
    assert.equal(signatureBase(input, valuesFor(input)), lines.join('\n'), label);
    assert.equal(serializeSfDictionary(new Map([[label, input]])), field, 'Signature-Input re-serializes unchanged');
  }
});

test('§2.1: an empty field value gives "<name>": followed by one space', () => {
  const input: SfInnerList = { items: [sfItem(sfString('x-empty-header'))], params: new Map() };
  assert.equal(signatureBase(input, ['']), '"x-empty-header": \n"@signature-params": ("x-empty-header")');
});

test('§3.2 step 7: @signature-params is the re-serialized Signature-Input member, optional whitespace removed', () => {
  const loose = 'sig1=( "@method"   "@path" );created=1618884473; keyid="k"';
  const input = inputOf(loose, 'sig1');
  assert.equal(
    signatureBase(input, ['POST', '/foo']),
    '"@method": POST\n"@path": /foo\n"@signature-params": ("@method" "@path");created=1618884473;keyid="k"',
  );
});

test('signatureBase refuses what cannot be in a US-ASCII, line-oriented base', () => {
  const one = (name: string, params: Array<[string, string]> = []): SfInnerList => ({
    items: [sfItem(sfString(name), new Map(params.map(([k, v]) => [k, sfString(v)])))],
    params: new Map(),
  });
  const two = (a: SfInnerList['items'][number], b: SfInnerList['items'][number]): SfInnerList => ({
    items: [a, b],
    params: new Map(),
  });
  const cases: Array<[string, SfInnerList, string[]]> = [
    ['value count', one('date'), []],
    ['uppercase field name', one('Date'), ['x']],
    ['empty name', one(''), ['x']],
    ['space in name', one('a b'), ['x']],
    ['@signature-params covered', one('@signature-params'), ['x']],
    ['identifier not a string', { items: [sfItem({ type: 'token', value: 'date' })], params: new Map() }, ['x']],
    ['newline in value', one('date'), ['a\nb']],
    ['CR in value', one('date'), ['a\rb']],
    ['NUL in value', one('date'), ['a\u0000b']],
    ['non-ASCII in value', one('date'), ['caf\u00e9']],
    ['leading space', one('date'), [' a']],
    ['trailing tab', one('date'), ['a\t']],
    ['tab in a derived value', one('@method'), ['PO\tST']],
    ['same component twice', two(sfItem(sfString('date')), sfItem(sfString('date'))), ['a', 'a']],
    [
      'same component, parameters reordered',
      two(
        sfItem(
          sfString('example-dict'),
          new Map([
            ['key', sfString('a')],
            ['sf', { type: 'boolean', value: true }],
          ]),
        ),
        sfItem(
          sfString('example-dict'),
          new Map([
            ['sf', { type: 'boolean', value: true }],
            ['key', sfString('a')],
          ]),
        ),
      ),
      ['1', '1'],
    ],
  ];
  for (const [why, input, values] of cases) {
    assert.throws(() => signatureBase(input, values), { code: 'INVALID_ARGUMENT' }, why);
  }
  // A field value may hold inner tabs, and the same name with distinct parameters is two components.
  assert.equal(signatureBase(one('x-tabs'), ['a\tb']), '"x-tabs": a\tb\n"@signature-params": ("x-tabs")');
  const distinct = two(
    sfItem(sfString('example-dict'), new Map([['key', sfString('a')]])),
    sfItem(sfString('example-dict'), new Map([['key', sfString('b')]])),
  );
  assert.equal(
    signatureBase(distinct, ['1', '2']),
    '"example-dict";key="a": 1\n"example-dict";key="b": 2\n"@signature-params": ("example-dict";key="a" "example-dict";key="b")',
  );
});

test('parseSignatureFields: labels, presence, member types', () => {
  const si = 'sig1=("@method");created=1';
  const sig = 'sig1=:AAAA:';
  assert.equal(parseSignatureFields({ signatureInput: si, signature: sig, label: 'sig1' }).signature.length, 3);
  // Several field lines combine into one dictionary (§4.1, §4.2).
  const multi = parseSignatureFields({
    signatureInput: ['sig0=()', si],
    signature: ['sig0=::', ` ${sig} `],
    label: 'sig1',
  });
  assert.equal(serializeSfInnerList(multi.input), '("@method");created=1');
  // The RFC's proxy example (§4.3): two labels, each can be taken.
  const proxy = parseSignatureFields({
    signatureInput:
      'sig1=("@method" "@authority" "@path" "content-digest" "content-length" "content-type");created=1618884475;keyid="test-key-rsa-pss", proxy_sig=("signature";key="sig1" "forwarded");created=1618884480;expires=1618884540;keyid="test-key-rsa";alg="rsa-v1_5-sha256"',
    signature: 'sig1=:AAAA:, proxy_sig=:AAAA:',
    label: 'proxy_sig',
  });
  assert.equal(proxy.input.items.length, 2);

  const missing: Array<[string, unknown, unknown, string]> = [
    ['neither field', undefined, undefined, 'sig1'],
    ['both empty', '', [], 'sig1'],
    ['no such label', si, sig, 'sig2'],
  ];
  for (const [why, signatureInput, signature, label] of missing) {
    assert.throws(
      () => parseSignatureFields({ signatureInput, signature, label } as never),
      { code: 'SIGNATURE_MISSING' },
      why,
    );
  }
  const malformed: Array<[string, string | undefined, string | undefined]> = [
    ['only Signature-Input', si, undefined],
    ['only Signature', undefined, sig],
    ['label only in Signature-Input', `${si}, sig2=()`, sig],
    ['label only in Signature', si, `${sig}, sig2=::`],
    ['duplicate label', `${si}, sig1=()`, sig],
    ['input member is an item', 'sig1="@method"', sig],
    ['component identifier is a token', 'sig1=(method);created=1', sig],
    ['signature member is a string', si, 'sig1="AAAA"'],
    ['signature member is an inner list', si, 'sig1=(:AAAA:)'],
    ['signature member has parameters', si, 'sig1=:AAAA:;x'],
    ['Signature-Input is not a dictionary', 'sig1=("@method"', sig],
    ['Signature is not strict base64', si, 'sig1=:AAA:'],
    ['oversized', `${si}, ${Array.from({ length: 2000 }, (_, i) => `l${i}=()`).join(', ')}`, sig],
  ];
  for (const [why, signatureInput, signature] of malformed) {
    assert.throws(
      () => parseSignatureFields({ signatureInput, signature, label: 'sig1' }),
      { code: 'SIGNATURE_INPUT_MALFORMED' },
      why,
    );
  }
  assert.throws(() => parseSignatureFields({ signatureInput: si, signature: sig, label: 'Sig1' }), {
    code: 'INVALID_ARGUMENT',
  });
});

test('property: parseSignatureFields throws only RemembrancerError', () => {
  const valid = fc.constantFrom(
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519"',
    'sig1=("@method" "@target-uri" "content-digest");created=1;nonce="n";keyid="k";alg="ed25519"',
  );
  const sigs = fc.constantFrom(
    'sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:',
    'sig1=:AAAA:',
  );
  fc.assert(
    fc.property(
      fc.oneof(nastyString, mutated(valid)),
      fc.oneof(nastyString, sigs, mutated(sigs)),
      fc.constantFrom('sig1', 'sig-b26'),
      (si, s, label) => {
        onlyRemembrancerErrors(() => parseSignatureFields({ signatureInput: si, signature: s, label }));
      },
    ),
    { numRuns: 2000 },
  );
});
