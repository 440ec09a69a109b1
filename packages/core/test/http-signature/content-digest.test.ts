import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { verifyContentDigest } from '../../src/index.js';
import { contentDigest, parseContentDigest } from '../../src/http-signature/index.js';
import { mutated, nastyString, onlyRemembrancerErrors } from './arbitraries.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const b64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

// RFC 9530 Appendix B.1: {"hello": "world"} followed by LF.
const B1_BODY = enc('{"hello": "world"}\n');
const B1_DIGEST = 'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:';
// RFC 9530 Appendix B.2: the Content-Digest of empty content (a HEAD response).
const B2_DIGEST = 'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:';
// RFC 9530 §2: the sha-512 of the B.1 content, alone and next to a sha-256 member.
const SECTION2_SHA512 =
  'sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:';
const SECTION2_BOTH =
  'sha-256=:d435Qo+nKZ+gLcUHn7GQtQ72hiBVAgqoLsZnZPiTGPk=:,sha-512=:YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg==:';
// RFC 9421 B.2 test-request: sha-512 of {"hello": "world"} without LF.
const TEST_REQUEST_SHA512 =
  'sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:';

test('RFC 9530 B.1 and B.2: contentDigest reproduces the sha-256 examples and they verify', () => {
  assert.equal(contentDigest(B1_BODY), B1_DIGEST);
  assert.equal(contentDigest(new Uint8Array()), B2_DIGEST);
  verifyContentDigest(B1_DIGEST, B1_BODY);
  verifyContentDigest(B2_DIGEST, new Uint8Array());
  assert.equal(contentDigest(enc('{"hello": "world"}')), 'sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:');
});

test('parseContentDigest: known algorithms only, each with its digest length', () => {
  const both = parseContentDigest(SECTION2_BOTH);
  assert.deepEqual([...both.keys()], ['sha-256', 'sha-512']);
  assert.deepEqual(
    both.get('sha-512'),
    b64('YMAam51Jz/jOATT6/zvHrLVgOYTGFy1d6GJiOHTohq4yP+pgk4vf2aCsyRZOtw8MjkM7iw7yZ/WkppmM44T3qg=='),
  );
  assert.deepEqual(parseContentDigest(TEST_REQUEST_SHA512).get('sha-512')?.length, 64);
  // Unknown and deprecated algorithms are ignored whatever their value.
  const mixed = parseContentDigest(`md5=:HUXZLQLMuI/KZ5KDcJPcOA==:, unixsum=30637, foo=(1 2);x, ${B1_DIGEST}, bar`);
  assert.deepEqual([...mixed.keys()], ['sha-256']);
  assert.deepEqual(
    parseContentDigest('sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:;param=1').get('sha-256')?.length,
    32,
  );
  assert.equal(parseContentDigest('').size, 0);
  for (const bad of [
    'sha-256=:AAAA:', // 3 bytes
    'sha-512=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:', // 32 bytes under sha-512
    'sha-256="RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg="', // a string, not a byte sequence
    'sha-256=(:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:)',
    'sha-256',
    'sha-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg:', // unpadded
    `${B1_DIGEST}, ${B1_DIGEST}`, // repeated key
    'SHA-256=:RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=:', // keys are lowercase
    'sha-256=RK/0qy18MlBSVnWgjwz6lZEWjP/lF5HF9bvEF8FabDg=', // RFC 3230 Digest syntax
    'x'.repeat(5000),
  ]) {
    assert.throws(() => parseContentDigest(bad), { code: 'INVALID_ENCODING' }, bad.slice(0, 80));
  }
});

test('verifyContentDigest: missing, malformed, no sha-256, and mismatch are all CONTENT_DIGEST_MISMATCH', () => {
  const cases: Array<[string, string | undefined, RegExp]> = [
    ['absent', undefined, /missing/],
    ['empty', '', /missing/],
    ['blank', ' \t', /missing/],
    ['malformed', 'sha-256=:nope', /malformed/],
    ['only sha-512', SECTION2_SHA512, /no sha-256/],
    ['only unknown', 'md5=:HUXZLQLMuI/KZ5KDcJPcOA==:', /no sha-256/],
    ['digest of other content', B2_DIGEST, /does not match/],
    ['RFC 9530 §2 sha-256 is not the digest of the B.1 content', SECTION2_BOTH, /does not match/],
  ];
  for (const [why, header, message] of cases) {
    assert.throws(() => verifyContentDigest(header, B1_BODY), { code: 'CONTENT_DIGEST_MISMATCH', message }, why);
  }
  // Surrounding OWS is not part of the field value; other members may come along.
  verifyContentDigest(`  ${B1_DIGEST}\t`, B1_BODY);
  verifyContentDigest(`${SECTION2_SHA512}, ${B1_DIGEST}`, B1_BODY);
  assert.throws(() => verifyContentDigest(B1_DIGEST, 'not bytes' as unknown as Uint8Array), {
    code: 'INVALID_ARGUMENT',
  });
});

test('property: contentDigest verifies against its body and no other', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (body, at, flip) => {
      const header = contentDigest(body);
      verifyContentDigest(header, body);
      assert.equal(parseContentDigest(header).size, 1);
      const other = Uint8Array.from(body.length === 0 ? [flip] : body);
      if (body.length > 0) other[at % body.length]! ^= flip;
      assert.throws(() => verifyContentDigest(header, other), { code: 'CONTENT_DIGEST_MISMATCH' });
    }),
    { numRuns: 300 },
  );
});

test('property: parseContentDigest and verifyContentDigest throw only RemembrancerError', () => {
  const valid = fc.oneof(
    fc.constantFrom(B1_DIGEST, B2_DIGEST, SECTION2_BOTH, TEST_REQUEST_SHA512),
    fc.uint8Array({ maxLength: 64 }).map(contentDigest),
  );
  fc.assert(
    fc.property(fc.oneof(nastyString, mutated(valid), mutated(mutated(valid))), (s) => {
      onlyRemembrancerErrors(() => parseContentDigest(s));
      onlyRemembrancerErrors(() => verifyContentDigest(s, B1_BODY));
    }),
    { numRuns: 2000 },
  );
});
