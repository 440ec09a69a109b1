import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { BitString, Utf8String } from 'asn1js';
import { PKIStatusInfo, TimeStampResp } from 'pkijs';
import {
  RemembrancerError,
  buildTimestampRequest,
  crypto,
  toHex,
  verifyTimestampResponse,
  type ErrorCode,
  type TimestampExpectation,
} from '@vaultmesh/core';
import {
  OTHER_TEST_POLICY,
  TEST_POLICY,
  fixtureDir,
  makeCa,
  makeTsaCert,
  openssl,
  tsReply,
  writeTsaConfig,
  type KeyAndCert,
} from './fixtures/openssl-tsa.js';

const fixture = fixtureDir();
const dir = fixture.dir;
after(fixture.cleanup);

const digest = crypto.sha256(new TextEncoder().encode('epoch 7 statement'));
const nonce = 0x7777_0000_1111_2222n;

let ca: KeyAndCert;
let config: string;

before(async () => {
  ca = await makeCa(dir, 'ca', 'VaultMesh test CA');
  const tsa = await makeTsaCert(dir, 'tsa', ca, { name: 'VaultMesh test TSA' });
  config = writeTsaConfig(dir, 'tsa', tsa);
});

function expectation(over: Partial<TimestampExpectation> = {}): TimestampExpectation {
  return { digest, nonce, trustAnchorsPem: [ca.pem], policyOid: TEST_POLICY, ...over };
}

async function rejects(
  responseDer: Uint8Array,
  expect: TimestampExpectation,
  code: ErrorCode,
  pattern: RegExp,
): Promise<void> {
  await assert.rejects(verifyTimestampResponse(responseDer, expect), (e) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

/** A TimeStampResp built with pkijs: a status without a token. */
function statusOnly(status: number, failBit?: number, text?: string): Uint8Array {
  const info = new PKIStatusInfo({ status });
  if (failBit !== undefined) {
    const bytes = new Uint8Array(4);
    bytes[failBit >> 3] = 0x80 >> (failBit & 7);
    info.failInfo = new BitString({ valueHex: bytes, unusedBits: 0 });
  }
  if (text !== undefined) info.statusStrings = [new Utf8String({ value: text })];
  return new Uint8Array(new TimeStampResp({ status: info }).toSchema().toBER());
}

test('a granted response from an OpenSSL TSA verifies, and its token is the one openssl extracts', async () => {
  const response = await tsReply(dir, config, buildTimestampRequest({ digest, nonce, policyOid: TEST_POLICY }), 'ok');
  const v = await verifyTimestampResponse(response, expectation());
  await openssl(['ts', '-reply', '-in', `${dir}/ok.tsr`, '-token_out', '-out', `${dir}/ok.tst`], dir);
  assert.deepEqual(v.tokenDer, new Uint8Array(readFileSync(`${dir}/ok.tst`)));
  assert.equal(v.policyOid, TEST_POLICY);
});

test("RFC 3161 §2.4.2: the nonce of the response must be the request's", async () => {
  const response = await tsReply(dir, config, buildTimestampRequest({ digest, nonce: nonce + 1n }), 'other-nonce');
  await rejects(response, expectation(), 'TIMESTAMP_MISMATCH', /^RFC 3161 nonce check failed/);
});

test('an OpenSSL TSA that does not serve the requested policy answers rejection/unacceptedPolicy', async () => {
  const request = buildTimestampRequest({ digest, nonce, policyOid: '1.3.6.1.4.1.32473.3161.99' });
  const response = await tsReply(dir, config, request, 'bad-policy');
  await rejects(
    response,
    expectation(),
    'TIMESTAMP_REJECTED',
    /^RFC 3161 status check failed: .*status 2 \(rejection\), failInfo unacceptedPolicy/,
  );
});

test('an OpenSSL TSA that only takes SHA-256 answers rejection/badAlg to a SHA-1 imprint', async () => {
  const q = `${dir}/sha1.tsq`;
  await openssl(['ts', '-query', '-digest', toHex(digest.subarray(0, 20)), '-sha1', '-cert', '-out', q], dir);
  const response = await tsReply(dir, config, new Uint8Array(readFileSync(q)), 'sha1');
  await rejects(response, expectation(), 'TIMESTAMP_REJECTED', /status 2 \(rejection\), failInfo badAlg/);
});

test('statuses other than granted(0) and grantedWithMods(1) are rejections, with failInfo and text', async () => {
  await rejects(
    statusOnly(2, 25, 'disk full'),
    expectation(),
    'TIMESTAMP_REJECTED',
    /status 2 \(rejection\), failInfo systemFailure: disk full$/,
  );
  await rejects(statusOnly(3), expectation(), 'TIMESTAMP_REJECTED', /status 3 \(waiting\)$/);
  await rejects(
    statusOnly(5, 14),
    expectation(),
    'TIMESTAMP_REJECTED',
    /status 5 \(revocationNotification\), failInfo timeNotAvailable/,
  );
});

test('RFC 3161 §2.4.2: "When the status contains the value zero or one, a TimeStampToken MUST be present"', async () => {
  await rejects(statusOnly(0), expectation(), 'TIMESTAMP_MALFORMED', /^RFC 3161 structure check failed: .*no token/);
  await rejects(statusOnly(1), expectation(), 'TIMESTAMP_MALFORMED', /no token/);
});

test('other policies the TSA serves are granted under that policy; requiring the default then fails', async () => {
  const request = buildTimestampRequest({ digest, nonce, policyOid: OTHER_TEST_POLICY });
  const response = await tsReply(dir, config, request, 'other-policy');
  assert.equal(
    (await verifyTimestampResponse(response, expectation({ policyOid: OTHER_TEST_POLICY }))).policyOid,
    OTHER_TEST_POLICY,
  );
  await rejects(response, expectation(), 'TIMESTAMP_MISMATCH', /^RFC 3161 policy check failed/);
});

test('not a TimeStampResp: MALFORMED', async () => {
  const file = `${dir}/req.der`;
  writeFileSync(file, buildTimestampRequest({ digest, nonce }));
  for (const bad of [new Uint8Array(readFileSync(file)), new Uint8Array([0x30, 0x00]), new Uint8Array([0x05, 0x00])]) {
    await rejects(bad, expectation(), 'TIMESTAMP_MALFORMED', /^RFC 3161 structure check failed/);
  }
});
