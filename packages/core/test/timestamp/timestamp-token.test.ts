import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Integer } from 'asn1js';
import { ContentInfo, GeneralName, SignedData, TSTInfo } from 'pkijs';
import {
  RemembrancerError,
  UTC_TIMESTAMP_PATTERN,
  buildTimestampRequest,
  crypto,
  isRemembrancerError,
  verifyTimestampToken,
  type ErrorCode,
  type TimestampExpectation,
} from '@vaultmesh/core';
import { parseTokenStructure } from '../../src/timestamp/token-structure.js';
import {
  OTHER_TEST_POLICY,
  TEST_POLICY,
  cmsSignToken,
  fixtureDir,
  makeCa,
  makeTsaCert,
  openssl,
  reissueTsaCert,
  tsToken,
  writeTsaConfig,
  type KeyAndCert,
} from './fixtures/openssl-tsa.js';

// Tokens made by a real OpenSSL TSA (openssl ts -reply) and, for what openssl ts refuses to make,
// by openssl cms -sign. Each case breaks one thing and must fail at the check that covers it.

const fixture = fixtureDir();
const dir = fixture.dir;
after(fixture.cleanup);

const digest = crypto.sha256(new TextEncoder().encode('epoch 42 statement'));
const nonce = 0x0123_4567_89ab_cdefn;

let ca: KeyAndCert;
let otherCa: KeyAndCert;
let tsa: KeyAndCert;
let token: Uint8Array;
let tokenStarted: number;
let tokenSha1EssCertId: Uint8Array;
let tokenRsa: Uint8Array;
// Certificates issued before the token, so that they are valid at its genTime.
let weak: KeyAndCert;
let multi: KeyAndCert;
let twin: KeyAndCert;

before(async () => {
  [ca, otherCa] = await Promise.all([makeCa(dir, 'ca', 'VaultMesh test CA'), makeCa(dir, 'other-ca', 'Another CA')]);
  const rsaTsa = await makeTsaCert(dir, 'tsa-rsa', ca, { name: 'VaultMesh test TSA (RSA)', keyType: 'rsa' });
  tsa = await makeTsaCert(dir, 'tsa', ca, { name: 'VaultMesh test TSA' });
  [weak, multi, twin] = await Promise.all([
    makeTsaCert(dir, 'tsa-noncritical', ca, { profile: 'tsa_noncritical' }),
    makeTsaCert(dir, 'tsa-multi', ca, { profile: 'tsa_multi' }),
    reissueTsaCert(dir, 'tsa-twin', ca, tsa),
  ]);
  const request = buildTimestampRequest({ digest, nonce, policyOid: TEST_POLICY });
  tokenStarted = Date.now();
  [token, tokenSha1EssCertId, tokenRsa] = await Promise.all([
    tsToken(dir, writeTsaConfig(dir, 'tsa', tsa), request, 'q1'),
    tsToken(dir, writeTsaConfig(dir, 'tsa-sha1', tsa, { essCertIdAlg: 'sha1' }), request, 'q2'),
    tsToken(dir, writeTsaConfig(dir, 'tsa-rsa', rsaTsa), request, 'q3'),
  ]);
});

function expectation(over: Partial<TimestampExpectation> = {}): TimestampExpectation {
  return { digest, nonce, trustAnchorsPem: [ca.pem], policyOid: TEST_POLICY, ...over };
}

async function rejects(
  tokenDer: Uint8Array,
  expect: TimestampExpectation,
  code: ErrorCode,
  check: string,
): Promise<void> {
  await assert.rejects(verifyTimestampToken(tokenDer, expect), (e) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, new RegExp(`^RFC 3161 ${check} check failed: `));
    return true;
  });
}

/** `bytes` with the byte at `offset` flipped. */
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

test('a token from an OpenSSL TSA verifies (ESSCertIDv2, SHA-256; RFC 5816)', async () => {
  const v = await verifyTimestampToken(
    token,
    expectation({ genTimeWindow: { notBeforeMs: tokenStarted - 1000, notAfterMs: Date.now() } }),
  );
  assert.deepEqual(v.tokenDer, token);
  assert.match(v.serialNumber, /^[1-9][0-9]*$/);
  assert.equal(v.policyOid, TEST_POLICY);
  assert.equal(v.tsaSubject, 'CN=VaultMesh test TSA');
  assert.match(v.genTimeIso, UTC_TIMESTAMP_PATTERN);
  assert.equal(Date.parse(v.genTimeIso), v.genTime.getTime());
  const text = await openssl(['ts', '-reply', '-in', `${dir}/q1.tst`, '-token_in', '-text'], dir);
  assert.match(
    text,
    new RegExp(`Serial number: 0x${BigInt(v.serialNumber).toString(16).toUpperCase().padStart(2, '0')}`),
  );
});

test('the policy and nonce are optional expectations; the digest is not', async () => {
  const v = await verifyTimestampToken(token, { digest, trustAnchorsPem: [ca.pem] });
  assert.equal(v.policyOid, TEST_POLICY);
});

test('a token with the original ESSCertID (SHA-1, RFC 3161 §2.4.2 SigningCertificate) verifies', async () => {
  await verifyTimestampToken(tokenSha1EssCertId, expectation());
});

test('a token signed with an RSA TSA key verifies', async () => {
  const v = await verifyTimestampToken(tokenRsa, expectation());
  assert.equal(v.tsaSubject, 'CN=VaultMesh test TSA (RSA)');
});

test('trust anchors may come several to a PEM string, and in several strings', async () => {
  await verifyTimestampToken(token, expectation({ trustAnchorsPem: [otherCa.pem + ca.pem] }));
  await verifyTimestampToken(token, expectation({ trustAnchorsPem: [otherCa.pem, ca.pem] }));
});

test('RFC 3161 §2.4.2: messageImprint "MUST have the same value" as requested — another digest fails', async () => {
  await rejects(
    token,
    expectation({ digest: crypto.sha256(new Uint8Array([1])) }),
    'TIMESTAMP_MISMATCH',
    'message-imprint',
  );
});

test('RFC 3161 §2.4.2: the nonce "MUST equal the value provided in the TimeStampReq" — another nonce fails', async () => {
  await rejects(token, expectation({ nonce: nonce + 1n }), 'TIMESTAMP_MISMATCH', 'nonce');
});

test('RFC 3161 §2.4.2: a nonce that was requested "MUST be present" — a token without one fails', async () => {
  const q = `${dir}/no-nonce.tsq`;
  await openssl(
    ['ts', '-query', '-digest', Buffer.from(digest).toString('hex'), '-sha256', '-no_nonce', '-cert', '-out', q],
    dir,
  );
  await openssl(
    ['ts', '-reply', '-config', `${dir}/tsa.tsa.cnf`, '-queryfile', q, '-token_out', '-out', `${dir}/no-nonce.tst`],
    dir,
  );
  const { readFileSync } = await import('node:fs');
  const withoutNonce = new Uint8Array(readFileSync(`${dir}/no-nonce.tst`));
  await verifyTimestampToken(withoutNonce, expectation({ nonce: undefined }));
  await rejects(withoutNonce, expectation(), 'TIMESTAMP_MISMATCH', 'nonce');
});

test('a token under another TSA policy than the one required fails', async () => {
  await rejects(token, expectation({ policyOid: OTHER_TEST_POLICY }), 'TIMESTAMP_MISMATCH', 'policy');
});

test('a flipped byte of the CMS signature fails the signature check', async () => {
  const { signerInfo } = parseTokenStructure(token);
  const signature = signerInfo.signature.valueBlock.valueHexView;
  const at = indexOf(token, signature);
  assert.ok(at > 0);
  await rejects(flipped(token, at + signature.length - 1), expectation(), 'TIMESTAMP_SIGNATURE_INVALID', 'signature');
});

test('a flipped byte of the TSTInfo (its imprint) fails the signature check before any field is compared', async () => {
  const { tstInfoBytes } = parseTokenStructure(token);
  const at = indexOf(token, tstInfoBytes);
  const imprintAt = indexOf(tstInfoBytes, digest);
  assert.ok(at > 0 && imprintAt > 0);
  await rejects(flipped(token, at + imprintAt), expectation(), 'TIMESTAMP_SIGNATURE_INVALID', 'signature');
});

test('a TSA certificate issued by a CA that is not a trust anchor fails the chain check', async () => {
  await rejects(token, expectation({ trustAnchorsPem: [otherCa.pem] }), 'TIMESTAMP_UNTRUSTED', 'chain');
});

test('the TSA certificate itself as the trust anchor is refused: anchors are CAs', async () => {
  await rejects(token, expectation({ trustAnchorsPem: [tsa.pem] }), 'TIMESTAMP_UNTRUSTED', 'chain');
});

test('RFC 3161 §2.3: the TSA certificate\'s extended key usage "MUST be critical" — a non-critical one fails', async () => {
  // openssl ts will not sign with such a certificate (it checks RFC 3161 §2.3 itself): sign the
  // same TSTInfo with openssl cms, which adds the ESS signingCertificateV2 attribute with -cades.
  const { tstInfoBytes } = parseTokenStructure(token);
  const forged = await cmsSignToken(dir, tstInfoBytes, weak, { cades: true, name: 'noncritical' });
  await rejects(forged, expectation(), 'TIMESTAMP_UNTRUSTED', 'tsa-certificate');
});

test('RFC 3161 §2.3: "only one instance of the extended key usage ... with KeyPurposeID having value id-kp-timeStamping" — a second purpose fails', async () => {
  const { tstInfoBytes } = parseTokenStructure(token);
  const forged = await cmsSignToken(dir, tstInfoBytes, multi, { cades: true, name: 'multi' });
  await rejects(forged, expectation(), 'TIMESTAMP_UNTRUSTED', 'tsa-certificate');
});

test('the same TSTInfo signed with openssl cms by the TSA certificate with -cades verifies (the cross-check of the above)', async () => {
  const { tstInfoBytes } = parseTokenStructure(token);
  const resigned = await cmsSignToken(dir, tstInfoBytes, tsa, { cades: true, name: 'resigned' });
  await verifyTimestampToken(resigned, expectation());
});

test('RFC 3161 §2.4.2: the TSA certificate identifier "MUST be included ... inside a SigningCertificate attribute" — a token without one fails', async () => {
  const { tstInfoBytes } = parseTokenStructure(token);
  const bare = await cmsSignToken(dir, tstInfoBytes, tsa, { cades: false, name: 'bare' });
  await rejects(bare, expectation(), 'TIMESTAMP_SIGNATURE_INVALID', 'signing-certificate');
});

test('RFC 5035 §5.4.1: the first ESSCertIDv2 "MUST be the certificate used to verify the signature" — a swapped certificate with the same key fails', async () => {
  // Two certificates for one key; sign naming the second (sid = subjectKeyIdentifier, the same
  // for both), then carry the first: the signature still verifies, the ESS binding must not.
  const { tstInfoBytes } = parseTokenStructure(token);
  const signed = await cmsSignToken(dir, tstInfoBytes, twin, { cades: true, keyid: true, name: 'twin' });
  await verifyTimestampToken(signed, expectation());
  const contentInfo = ContentInfo.fromBER(signed);
  const signedData = new SignedData({ schema: contentInfo.content });
  const original = parseTokenStructure(token).signer.cert;
  signedData.certificates = [original];
  const swapped = new Uint8Array(
    new ContentInfo({ contentType: ContentInfo.SIGNED_DATA, content: signedData.toSchema() }).toSchema().toBER(),
  );
  await rejects(swapped, expectation(), 'TIMESTAMP_SIGNATURE_INVALID', 'signing-certificate');
});

test('the chain is checked at genTime: a TSTInfo dated before the TSA certificate was issued fails', async () => {
  const tstInfo = TSTInfo.fromBER(parseTokenStructure(token).tstInfoBytes);
  tstInfo.genTime = new Date('2020-01-01T00:00:00Z');
  const backdated = await cmsSignToken(dir, new Uint8Array(tstInfo.toSchema().toBER()), tsa, {
    cades: true,
    name: 'backdated',
  });
  await rejects(backdated, expectation(), 'TIMESTAMP_UNTRUSTED', 'chain');
});

test('RFC 3161 §2.4.2: the tsa name "MUST correspond to one of the subject names" of the signer — another name fails', async () => {
  const tstInfo = TSTInfo.fromBER(parseTokenStructure(token).tstInfoBytes);
  tstInfo.tsa = new GeneralName({ type: 4, value: parseTokenStructure(tokenRsa).signer.cert.subject });
  tstInfo.serialNumber = new Integer({ value: 99 });
  const misnamed = await cmsSignToken(dir, new Uint8Array(tstInfo.toSchema().toBER()), tsa, {
    cades: true,
    name: 'misnamed',
  });
  await rejects(misnamed, expectation(), 'TIMESTAMP_UNTRUSTED', 'tsa-name');
});

test('genTime outside the expected window fails the gen-time check', async () => {
  const genTime = (await verifyTimestampToken(token, expectation())).genTime.getTime();
  await rejects(
    token,
    expectation({ genTimeWindow: { notBeforeMs: genTime + 1, notAfterMs: genTime + 60_000 } }),
    'TIMESTAMP_TIME_INVALID',
    'gen-time',
  );
  await rejects(
    token,
    expectation({ genTimeWindow: { notBeforeMs: genTime - 60_000, notAfterMs: genTime - 1 } }),
    'TIMESTAMP_TIME_INVALID',
    'gen-time',
  );
  await verifyTimestampToken(token, expectation({ genTimeWindow: { notBeforeMs: genTime, notAfterMs: genTime } }));
});

test('structure: a response, a bare TSTInfo, trailing bytes and a truncated token are MALFORMED', async () => {
  const { tstInfoBytes } = parseTokenStructure(token);
  for (const bad of [
    tstInfoBytes,
    new Uint8Array([...token, 0]),
    token.subarray(0, token.length - 1),
    new Uint8Array(0),
  ]) {
    await rejects(bad, expectation(), 'TIMESTAMP_MALFORMED', 'structure');
  }
});

test('an unusable expectation is INVALID_ARGUMENT: no anchors, no PEM certificate, a short digest', async () => {
  for (const over of [
    { trustAnchorsPem: [] },
    { trustAnchorsPem: ['not a certificate'] },
    { digest: new Uint8Array(20) },
  ]) {
    await assert.rejects(verifyTimestampToken(token, expectation(over)), (e) =>
      isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );
  }
});
