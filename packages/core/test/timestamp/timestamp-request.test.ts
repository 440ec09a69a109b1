import { test } from 'node:test';
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TimeStampReq } from 'pkijs';
import { buildTimestampRequest, crypto, isRemembrancerError, randomNonce, toHex } from '@vaultmesh/core';
import { OID_SHA256 } from '../../src/timestamp/index.js';
import { TEST_POLICY, fixtureDir, openssl } from './fixtures/openssl-tsa.js';

const fixture = fixtureDir();
after(fixture.cleanup);

const digest = crypto.sha256(new TextEncoder().encode('epoch statement'));

test('RFC 3161 §2.4.1: the TimeStampReq round-trips through pkijs with every field we set', () => {
  const nonce = 0x1234_5678_9abc_def0n;
  const der = buildTimestampRequest({ digest, nonce, policyOid: TEST_POLICY });
  const req = TimeStampReq.fromBER(der);
  assert.equal(req.version, 1);
  assert.equal(req.messageImprint.hashAlgorithm.algorithmId, OID_SHA256);
  // RFC 5754 §2: "Implementations MUST generate SHA2 AlgorithmIdentifiers with absent parameters."
  assert.equal(req.messageImprint.hashAlgorithm.algorithmParams, undefined);
  assert.deepEqual(new Uint8Array(req.messageImprint.hashedMessage.getValue()), digest);
  assert.equal(req.nonce?.toBigInt(), nonce);
  assert.equal(req.certReq, true);
  assert.equal(req.reqPolicy, TEST_POLICY);
  assert.deepEqual(new Uint8Array(req.toSchema().toBER()), der, 'one encoding');
});

test('without a policy the request has no reqPolicy', () => {
  const req = TimeStampReq.fromBER(buildTimestampRequest({ digest, nonce: 7n }));
  assert.equal(req.reqPolicy, undefined);
  assert.equal(req.nonce?.toBigInt(), 7n);
});

test('openssl reads our TimeStampReq: SHA-256 imprint, policy, nonce, certificate required', async () => {
  const nonce = 0xfedc_ba98_7654_3210n; // top bit set: the DER INTEGER needs a leading zero byte
  const file = join(fixture.dir, 'request.tsq');
  writeFileSync(file, buildTimestampRequest({ digest, nonce, policyOid: TEST_POLICY }));
  const text = await openssl(['ts', '-query', '-in', file, '-text'], fixture.dir);
  assert.match(text, /Hash Algorithm: sha256/);
  assert.match(text, new RegExp(`Policy OID: ${TEST_POLICY.replaceAll('.', '\\.')}`));
  assert.match(text, /Nonce: 0xFEDCBA9876543210/);
  assert.match(text, /Certificate required: yes/);
  const hexDump = [...text.matchAll(/^\s+[0-9a-f]{4} - ((?:[0-9a-f]{2}[ -]){1,16})/gm)]
    .map((m) => m[1]!.replace(/[ -]/g, ''))
    .join('');
  assert.equal(hexDump, toHex(digest));
});

test('buildTimestampRequest refuses a digest that is not 32 bytes, a bad nonce or policy', () => {
  const bad = [
    { digest: new Uint8Array(31), nonce: 1n },
    { digest: new Uint8Array(33), nonce: 1n },
    { digest, nonce: 0n },
    { digest, nonce: -5n },
    { digest, nonce: 1n << 160n },
    { digest, nonce: 1n, policyOid: '1.3.6.1.' },
    { digest, nonce: 1n, policyOid: '3.1' },
    { digest, nonce: 1n, policyOid: '1.01' },
  ];
  for (const input of bad) {
    assert.throws(
      () => buildTimestampRequest(input),
      (e) => isRemembrancerError(e, 'INVALID_ARGUMENT'),
    );
  }
});

test('randomNonce: positive, at most 64 bits, not repeated', () => {
  const seen = new Set<bigint>();
  for (let i = 0; i < 1000; i++) {
    const n = randomNonce();
    assert.ok(n > 0n && n < 1n << 64n);
    seen.add(n);
  }
  assert.equal(seen.size, 1000);
});
