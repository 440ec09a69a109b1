import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TSTInfo } from 'pkijs';
import {
  RemembrancerError,
  buildTimestampRequest,
  crypto,
  verifyTimestampToken,
  type ErrorCode,
  type TimestampExpectation,
} from '@vaultmesh/core';
import { parseTokenStructure } from '../../src/timestamp/token-structure.js';
import {
  TEST_POLICY,
  cmsSignToken,
  fixtureDir,
  makeCa,
  makeTsaCert,
  tsToken,
  writeTsaConfig,
  type KeyAndCert,
} from './fixtures/openssl-tsa.js';

// verifyTimestampToken remembers decoded tokens and certificates, imported keys and validated
// certificate paths (by their exact bytes). Each case first lets a good token fill those caches,
// then shows that a token or an expectation that must fail still fails, at its own check.

const fixture = fixtureDir();
const dir = fixture.dir;
after(fixture.cleanup);

const digest = crypto.sha256(new TextEncoder().encode('epoch 7 statement'));
const nonce = 0x0bad_cafen;

let ca: KeyAndCert;
let otherCa: KeyAndCert;
let tsa: KeyAndCert;
let token: Uint8Array;
let foreignToken: Uint8Array;

before(async () => {
  [ca, otherCa] = await Promise.all([makeCa(dir, 'ca', 'Cache test CA'), makeCa(dir, 'other-ca', 'Cache test CA')]);
  // The same subject name under both CAs: only the chain tells the two TSAs apart.
  const [own, foreign] = await Promise.all([
    makeTsaCert(dir, 'tsa', ca, { name: 'Cache test TSA' }),
    makeTsaCert(dir, 'foreign-tsa', otherCa, { name: 'Cache test TSA' }),
  ]);
  tsa = own;
  const request = buildTimestampRequest({ digest, nonce, policyOid: TEST_POLICY });
  [token, foreignToken] = await Promise.all([
    tsToken(dir, writeTsaConfig(dir, 'tsa', own), request, 'q1'),
    tsToken(dir, writeTsaConfig(dir, 'foreign-tsa', foreign), request, 'q2'),
  ]);
});

function expectation(over: Partial<TimestampExpectation> = {}): TimestampExpectation {
  return { digest, nonce, trustAnchorsPem: [ca.pem], policyOid: TEST_POLICY, ...over };
}

async function rejects(tokenDer: Uint8Array, expect: TimestampExpectation, code: ErrorCode, check: string) {
  await assert.rejects(verifyTimestampToken(tokenDer, expect), (e) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, new RegExp(`^RFC 3161 ${check} check failed: `));
    return true;
  });
}

function flipped(bytes: Uint8Array, offset: number): Uint8Array {
  const out = bytes.slice();
  out[offset]! ^= 0x01;
  return out;
}

function indexOf(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

test('the same token verifies again and again; each call compares it with its own expectation', async () => {
  for (let i = 0; i < 3; i++) await verifyTimestampToken(token, expectation());
  const other = crypto.sha256(new TextEncoder().encode('another statement'));
  await rejects(token, expectation({ digest: other }), 'TIMESTAMP_MISMATCH', 'message-imprint');
  await rejects(token, expectation({ nonce: nonce + 1n }), 'TIMESTAMP_MISMATCH', 'nonce');
  const t = (await verifyTimestampToken(token, expectation())).genTime.getTime();
  await rejects(
    token,
    expectation({ genTimeWindow: { notBeforeMs: t + 1, notAfterMs: t + 60_000 } }),
    'TIMESTAMP_TIME_INVALID',
    'gen-time',
  );
});

test('after a cached success, a tampered signature or TSTInfo of that token still fails the signature check', async () => {
  await verifyTimestampToken(token, expectation());
  const { signerInfo, tstInfoBytes } = parseTokenStructure(token);
  const signature = signerInfo.signature.valueBlock.valueHexView;
  const sigAt = indexOf(token, signature);
  const tstAt = indexOf(token, tstInfoBytes) + indexOf(tstInfoBytes, digest);
  assert.ok(sigAt > 0 && tstAt > 0);
  await rejects(
    flipped(token, sigAt + signature.length - 1),
    expectation(),
    'TIMESTAMP_SIGNATURE_INVALID',
    'signature',
  );
  await rejects(flipped(token, tstAt), expectation(), 'TIMESTAMP_SIGNATURE_INVALID', 'signature');
  // And the untouched token, asked again, is still good.
  await verifyTimestampToken(token, expectation());
});

test('after a cached success, a token of a same-named TSA under another CA still fails the chain check', async () => {
  await verifyTimestampToken(token, expectation());
  await rejects(foreignToken, expectation(), 'TIMESTAMP_UNTRUSTED', 'chain');
  // Trusted once both CAs are anchors, and refused again when the anchors go back to one.
  await verifyTimestampToken(foreignToken, expectation({ trustAnchorsPem: [ca.pem, otherCa.pem] }));
  await rejects(foreignToken, expectation(), 'TIMESTAMP_UNTRUSTED', 'chain');
});

test('after a cached success, the same token against another trust-anchor set fails the chain check', async () => {
  await verifyTimestampToken(token, expectation());
  await rejects(token, expectation({ trustAnchorsPem: [otherCa.pem] }), 'TIMESTAMP_UNTRUSTED', 'chain');
  await rejects(token, expectation({ trustAnchorsPem: [tsa.pem] }), 'TIMESTAMP_UNTRUSTED', 'chain');
  await verifyTimestampToken(token, expectation({ trustAnchorsPem: [otherCa.pem, ca.pem] }));
});

test('after a cached path, a token by the same certificate dated before it was issued still fails the chain check', async () => {
  // Same certificate set as a good token, so the validated path is found in the cache: the dates
  // of the path are checked for each token all the same.
  const tstInfo = TSTInfo.fromBER(parseTokenStructure(token).tstInfoBytes);
  const good = await cmsSignToken(dir, parseTokenStructure(token).tstInfoBytes, tsa, { cades: true, name: 'good' });
  await verifyTimestampToken(good, expectation());
  tstInfo.genTime = new Date('2020-01-01T00:00:00Z');
  const backdated = await cmsSignToken(dir, new Uint8Array(tstInfo.toSchema().toBER()), tsa, {
    cades: true,
    name: 'backdated',
  });
  await rejects(backdated, expectation(), 'TIMESTAMP_UNTRUSTED', 'chain');
  tstInfo.genTime = new Date('2999-01-01T00:00:00Z');
  const late = await cmsSignToken(dir, new Uint8Array(tstInfo.toSchema().toBER()), tsa, { cades: true, name: 'late' });
  await rejects(late, expectation(), 'TIMESTAMP_UNTRUSTED', 'chain');
  await verifyTimestampToken(good, expectation());
});
