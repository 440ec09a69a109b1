import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RemembrancerError, crypto, verifyTimestampToken, type ErrorCode } from '@vaultmesh/core';
import {
  DEV_TSA_POLICY_OID,
  TIMESTAMP_QUERY_TYPE,
  TIMESTAMP_REPLY_TYPE,
  opensslVerifyToken,
  requestTimestamp,
  startDevTsa,
  type DevTsa,
} from '../../src/anchoring/index.js';

// The RFC 3161 client against a real OpenSSL TSA (startDevTsa) and against small misbehaving
// servers: every failure of the exchange has its own code, and a stored token is one openssl accepts.
let dir: string;
let tsa: DevTsa;
const servers: Server[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'remembrancer-rfc3161-client-'));
  tsa = await startDevTsa({ dir: join(dir, 'tsa'), name: 'client-test' });
});

after(async () => {
  await tsa.stop();
  for (const s of servers) {
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
  rmSync(dir, { recursive: true, force: true });
});

const digest = crypto.sha256(new TextEncoder().encode('epoch statement 1'));

/** A local server answering every request with `handler`; stopped after the file. */
async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function failsWith(promise: Promise<unknown>, code: ErrorCode, pattern?: RegExp): Promise<void> {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof RemembrancerError, `not a RemembrancerError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (pattern !== undefined) assert.match(e.message, pattern);
    return true;
  });
}

test('requestTimestamp gets a verified token from the dev TSA, and openssl ts -verify accepts it', async () => {
  const before = tsa.requests();
  const started = Date.now();
  const v = await requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem], policyOid: tsa.policyOid });
  assert.equal(tsa.requests(), before + 1, 'the TSA counts the request');
  assert.equal(v.policyOid, DEV_TSA_POLICY_OID);
  assert.equal(v.tsaSubject, 'CN=client-test dev TSA');
  // genTime is truncated to the second by the TSA.
  assert.ok(v.genTime.getTime() >= started - 1000 && v.genTime.getTime() <= Date.now());
  const verdict = await opensslVerifyToken({
    tokenDer: v.tokenDer,
    digest,
    caCertPem: tsa.caCertPem,
    tsaCertPem: tsa.tsaCertPem,
    dir,
  });
  assert.ok(verdict.ok, verdict.output);
  // The stored token verifies offline again, without the nonce (which lives only in the exchange).
  await verifyTimestampToken(v.tokenDer, { digest, trustAnchorsPem: [tsa.caCertPem], policyOid: tsa.policyOid });
});

test('openssl ts -verify refuses a token for another digest (the helper can say no)', async () => {
  const v = await requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem] });
  const verdict = await opensslVerifyToken({
    tokenDer: v.tokenDer,
    digest: crypto.sha256(new Uint8Array([9])),
    caCertPem: tsa.caCertPem,
    tsaCertPem: tsa.tsaCertPem,
    dir,
  });
  assert.equal(verdict.ok, false);
});

test('verification failures keep their TIMESTAMP_* code: another trust anchor, another policy', async () => {
  const other = await startDevTsa({ dir: join(dir, 'other'), name: 'other' });
  try {
    await failsWith(
      requestTimestamp(tsa.url, digest, { trustAnchorsPem: [other.caCertPem] }),
      'TIMESTAMP_UNTRUSTED',
      /chain/,
    );
  } finally {
    await other.stop();
  }
  // The dev TSA serves only its own policy: asking for another is a rejection (unacceptedPolicy).
  await failsWith(
    requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem], policyOid: '1.3.6.1.4.1.32473.9' }),
    'TIMESTAMP_REJECTED',
    /unacceptedPolicy/,
  );
});

test('a TSA that is down (503) is TSA_HTTP_ERROR with the status; the request is counted', async () => {
  const before = tsa.requests();
  tsa.setDown(true);
  try {
    await failsWith(
      requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem] }),
      'TSA_HTTP_ERROR',
      /HTTP 503/,
    );
  } finally {
    tsa.setDown(false);
  }
  assert.equal(tsa.requests(), before + 1);
});

test('a 200 of another media type is TSA_HTTP_ERROR (RFC 3161 §3.4: application/timestamp-reply)', async () => {
  const url = await serve((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>'));
  await failsWith(requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem] }), 'TSA_HTTP_ERROR', /text\/html/);
});

test('the request is a POST of application/timestamp-query carrying the DER TimeStampReq', async () => {
  let seen: { method?: string; type?: string; length: number } | undefined;
  const url = await serve((req, res) => {
    let length = 0;
    req.on('data', (c: Buffer) => (length += c.length));
    req.on('end', () => {
      seen = { method: req.method, type: req.headers['content-type'], length };
      res.writeHead(500).end();
    });
  });
  await failsWith(requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem] }), 'TSA_HTTP_ERROR', /HTTP 500/);
  assert.equal(seen?.method, 'POST');
  assert.equal(seen?.type, TIMESTAMP_QUERY_TYPE);
  assert.ok(seen.length > 40 && seen.length < 200);
});

test('a server that never answers gives TSA_TIMEOUT within the bound', async () => {
  const url = await serve(() => undefined);
  const started = Date.now();
  await failsWith(
    requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem], timeoutMs: 300 }),
    'TSA_TIMEOUT',
    /300 ms/,
  );
  assert.ok(Date.now() - started < 5000);
});

test('a server that sends headers and then stalls the body gives TSA_TIMEOUT', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': TIMESTAMP_REPLY_TYPE });
    res.write(new Uint8Array([0x30]));
  });
  await failsWith(requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem], timeoutMs: 300 }), 'TSA_TIMEOUT');
});

test('a reply over maxResponseBytes is TSA_RESPONSE_TOO_LARGE, announced or streamed', async () => {
  const big = new Uint8Array(100 * 1024);
  const announced = await serve((_req, res) =>
    res.writeHead(200, { 'content-type': TIMESTAMP_REPLY_TYPE, 'content-length': big.length }).end(big),
  );
  await failsWith(
    requestTimestamp(announced, digest, { trustAnchorsPem: [tsa.caCertPem] }),
    'TSA_RESPONSE_TOO_LARGE',
    /65536/,
  );
  const streamed = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': TIMESTAMP_REPLY_TYPE });
    for (let i = 0; i < 10; i++) res.write(big.subarray(0, 1024));
    res.end();
  });
  await failsWith(
    requestTimestamp(streamed, digest, { trustAnchorsPem: [tsa.caCertPem], maxResponseBytes: 4096 }),
    'TSA_RESPONSE_TOO_LARGE',
    /more than 4096 bytes/,
  );
});

test('a port nobody listens on is TSA_UNREACHABLE', async () => {
  const url = await serve(() => undefined);
  const s = servers.pop()!;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  await failsWith(requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem] }), 'TSA_UNREACHABLE');
});

test('garbage with the right media type fails verification (TIMESTAMP_MALFORMED)', async () => {
  const url = await serve((_req, res) => res.writeHead(200, { 'content-type': TIMESTAMP_REPLY_TYPE }).end('not DER'));
  await failsWith(requestTimestamp(url, digest, { trustAnchorsPem: [tsa.caCertPem] }), 'TIMESTAMP_MALFORMED');
});

test('unusable arguments are INVALID_ARGUMENT and send nothing', async () => {
  const before = tsa.requests();
  await failsWith(
    requestTimestamp('ftp://example.invalid/', digest, { trustAnchorsPem: [tsa.caCertPem] }),
    'INVALID_ARGUMENT',
  );
  await failsWith(
    requestTimestamp(tsa.url, new Uint8Array(31), { trustAnchorsPem: [tsa.caCertPem] }),
    'INVALID_ARGUMENT',
  );
  await failsWith(
    requestTimestamp(tsa.url, digest, { trustAnchorsPem: [tsa.caCertPem], timeoutMs: 0 }),
    'INVALID_ARGUMENT',
  );
  assert.equal(tsa.requests(), before);
});

test('the dev TSA refuses other methods (405), media types (415) and oversized queries (413)', async () => {
  assert.equal((await fetch(tsa.url)).status, 405);
  const wrongType = await fetch(tsa.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.equal(wrongType.status, 415);
  const huge = await fetch(tsa.url, {
    method: 'POST',
    headers: { 'content-type': TIMESTAMP_QUERY_TYPE },
    body: new Uint8Array(20_000),
  });
  assert.equal(huge.status, 413);
});
