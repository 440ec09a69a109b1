import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RemembrancerError, crypto } from '@vaultmesh/core';
import {
  PeerRequestError,
  isPeerSilent,
  peerAnswerJson,
  peerCredentials,
  peerFetch,
  peerRequest,
  type PeerAnswerSummary,
} from '../../src/federation/peer-client.js';

// One real HTTP server on 127.0.0.1, a route per way a peer can fail; and a port where nothing
// listens. The client must tell silence (unreachable, timeout) from refusals and nonsense, and
// keep what the peer said and the underlying error.
let server: Server;
let base: string;
let deadPort: number;
const open = new Set<ServerResponse>();
const creds = peerCredentials(0x01020304, crypto.randomBytes(32));

function peer(endpoint = base) {
  return { id: 'beta.peer-client.test', endpoint };
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  switch (req.url) {
    case '/refuse-json':
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'REGISTRY_STALE', message: 'registry version 2 is older than 3' }));
      return;
    case '/refuse-text':
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end('bad gateway upstream');
      return;
    case '/refuse-odd-code':
      // A code that is not of our codes' form is not repeated as peerCode.
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: 'drop table; <script>', message: 'nope' }));
      return;
    case '/created':
      res.writeHead(201, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
      return;
    case '/not-json':
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('this is not JSON');
      return;
    case '/hang':
      // Never answers.
      open.add(res);
      return;
    case '/stall-body':
      // Headers, then a body that never ends.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
      open.add(res);
      return;
    case '/cut':
      // Headers, part of the body, then the connection is torn down.
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"partial":');
      setTimeout(() => req.socket.destroy(), 20);
      return;
    default:
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
  }
}

before(async () => {
  server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // A port that was free a moment ago: nothing listens there.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  deadPort = (probe.address() as AddressInfo).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
});

after(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

async function failure(p: Promise<unknown>): Promise<PeerRequestError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PeerRequestError, `a PeerRequestError, not ${String(e)}`);
    assert.ok(e instanceof RemembrancerError);
    assert.equal(e.peer, peer().id);
    assert.notEqual(e.cause, undefined, 'every peer error carries its cause');
    return e;
  }
  assert.fail('expected the request to fail');
}

describe('peerRequest: failures are classified', () => {
  test('an answer with a status the caller does not take is PEER_REQUEST_FAILED with the status and the peer code', async () => {
    const e = await failure(peerRequest(peer(), creds, 'GET', '/refuse-json'));
    assert.equal(e.code, 'PEER_REQUEST_FAILED');
    assert.equal(e.status, 403);
    assert.equal(e.peerCode, 'REGISTRY_STALE');
    assert.equal(e.answered, true);
    assert.equal(isPeerSilent(e), false);
    assert.match(e.message, /answered 403 REGISTRY_STALE: registry version 2 is older than 3/);
    const cause = e.cause as PeerAnswerSummary;
    assert.equal(cause.status, 403);
    assert.match(cause.body, /REGISTRY_STALE/);
  });

  test('a refusal without a JSON error body keeps its status and text, and no peer code', async () => {
    const e = await failure(peerRequest(peer(), creds, 'GET', '/refuse-text'));
    assert.equal(e.code, 'PEER_REQUEST_FAILED');
    assert.equal(e.status, 502);
    assert.equal(e.peerCode, undefined);
    assert.match(e.message, /answered 502: bad gateway upstream/);
    assert.deepEqual(e.cause, { status: 502, body: 'bad gateway upstream' });
  });

  test('a peer code not of our codes form is not taken', async () => {
    const e = await failure(peerRequest(peer(), creds, 'GET', '/refuse-odd-code'));
    assert.equal(e.code, 'PEER_REQUEST_FAILED');
    assert.equal(e.status, 400);
    assert.equal(e.peerCode, undefined);
  });

  test('statuses the caller takes resolve; 200 is the default', async () => {
    const ok = await peerRequest(peer(), creds, 'GET', '/');
    assert.equal(ok.status, 200);
    assert.deepEqual(peerAnswerJson(peer(), ok), { ok: true });
    const e = await failure(peerRequest(peer(), creds, 'POST', '/created', { body: { a: 1 } }));
    assert.equal(e.status, 201);
    const created = await peerRequest(peer(), creds, 'POST', '/created', { body: { a: 1 }, accept: [200, 201] });
    assert.equal(created.status, 201);
  });

  test('a body that is not JSON is PEER_ANSWER_MALFORMED with the parse error as cause', async () => {
    const answer = await peerRequest(peer(), creds, 'GET', '/not-json');
    let caught: unknown;
    try {
      peerAnswerJson(peer(), answer);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof PeerRequestError);
    assert.equal(caught.code, 'PEER_ANSWER_MALFORMED');
    assert.equal(caught.status, 200);
    assert.equal(caught.answered, true);
    assert.ok(caught.cause instanceof Error);
  });

  test('a peer that does not answer in time is PEER_TIMEOUT, classified by the signal', async () => {
    const started = performance.now();
    const e = await failure(peerRequest(peer(), creds, 'GET', '/hang', { timeoutMs: 150 }));
    assert.equal(e.code, 'PEER_TIMEOUT');
    assert.equal(e.status, undefined);
    assert.equal(isPeerSilent(e), true);
    assert.equal((e.cause as Error).name, 'TimeoutError');
    assert.ok(performance.now() - started < 2000, 'bounded by the timeout');
  });

  test('a body that stalls after the headers is PEER_TIMEOUT too', async () => {
    const e = await failure(peerRequest(peer(), creds, 'GET', '/stall-body', { timeoutMs: 150 }));
    assert.equal(e.code, 'PEER_TIMEOUT');
    assert.equal(e.status, undefined);
  });

  test('a port with nothing listening is PEER_UNREACHABLE with the network error as cause', async () => {
    const e = await failure(peerRequest(peer(`http://127.0.0.1:${deadPort}`), creds, 'GET', '/', { timeoutMs: 2000 }));
    assert.equal(e.code, 'PEER_UNREACHABLE');
    assert.equal(e.status, undefined);
    assert.equal(isPeerSilent(e), true);
    assert.ok(e.cause instanceof Error);
    assert.match(e.message, /unreachable/);
  });

  test('a connection torn down mid-body is PEER_UNREACHABLE, not a timeout', async () => {
    const e = await failure(peerRequest(peer(), creds, 'GET', '/cut', { timeoutMs: 5000 }));
    assert.equal(e.code, 'PEER_UNREACHABLE');
    assert.ok(e.cause instanceof Error);
  });

  test('peerFetch (unsigned, for the witness route) classifies the same way', async () => {
    const e = await failure(
      peerFetch(peer(), `${base}/refuse-json`, { method: 'POST', body: 'x', timeoutMs: 1000, accept: [200, 409] }),
    );
    assert.equal(e.code, 'PEER_REQUEST_FAILED');
    assert.equal(e.peerCode, 'REGISTRY_STALE');
  });
});
