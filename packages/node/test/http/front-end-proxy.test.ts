import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { forwardToLeader, servedByEveryFrontEnd } from '../../src/http/front-end-proxy.js';
import { installErrorHandling } from '../../src/http/error-handler.js';

test('a front end without the lease serves appends and log reads itself, and forwards the rest', () => {
  for (const [method, path] of [
    ['POST', '/v1/ns/dao:x/entries'],
    ['POST', '/v1/ns/dao:x/batch'],
    ['GET', '/v1/ns/dao:x/entries/3'],
    ['GET', '/v1/ns/dao:x/receipt/3'],
    ['GET', '/v1/ns/dao:x/tile/0/000'],
    ['GET', '/v1/ns/dao:x/checkpoint'],
    ['GET', '/v1/ns/dao:x'],
    ['GET', '/v1/ns'],
    ['GET', '/healthz'],
    ['GET', '/explorer/'],
  ])
    assert.equal(servedByEveryFrontEnd(method!, path!), true, `${method} ${path}`);
  for (const [method, path] of [
    ['PUT', '/v1/ns/dao:x'],
    ['POST', '/v1/governance'],
    ['POST', '/v1/witness/add-checkpoint'],
    ['POST', '/v1/ns/dao:x/messages'],
    ['GET', '/v1/ns/dao:x/messages/abc'],
    ['GET', '/v1/ns/dao:x/inbox'],
    ['POST', '/v1/ns/dao:x/inbox'],
    ['GET', '/v1/federation/status'],
    ['GET', '/v1/anchoring/status'],
    ['PUT', '/v1/federation/registry'],
  ])
    assert.equal(servedByEveryFrontEnd(method!, path!), false, `${method} ${path}`);
});

let leader: FastifyInstance;
let follower: FastifyInstance;
let leaderUrl: string | undefined;
let leading = false;
let followerUrl: string;

before(async () => {
  leader = Fastify();
  // The leader echoes what it got: method, URL, the headers a signature covers, the raw body.
  leader.removeAllContentTypeParsers();
  leader.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  leader.all('/*', async (request, reply) => {
    reply.header('x-answered-by', 'leader').status(202);
    return {
      method: request.method,
      url: request.url,
      host: request.headers.host,
      signature: request.headers.signature,
      forwarded: request.headers.forwarded,
      body: Buffer.isBuffer(request.body) ? request.body.toString('utf8') : null,
    };
  });
  await leader.listen({ host: '127.0.0.1', port: 0 });
  const addr = leader.server.address();
  leaderUrl = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;

  follower = Fastify();
  installErrorHandling(follower);
  forwardToLeader(follower, { leading: () => leading, leaderUrl: () => Promise.resolve(leaderUrl) });
  follower.post('/v1/ns/:ns/entries', async () => ({ served: 'here' }));
  follower.put('/v1/ns/:ns', async () => ({ served: 'here' }));
  await follower.listen({ host: '127.0.0.1', port: 0 });
  const f = follower.server.address();
  followerUrl = `http://127.0.0.1:${typeof f === 'object' && f ? f.port : 0}`;
});

after(async () => {
  await follower?.close();
  await leader?.close();
});

test('forwarded as it came: method, path and query, Host and signature headers, the raw body; the answer streams back', async () => {
  const body = '{"b": 1,  "a": "spaced as sent"}';
  const r = await fetch(`${followerUrl}/v1/ns/dao:x?x=1`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', signature: 'sig1=:abc:' },
    body,
  });
  assert.equal(r.status, 202);
  assert.equal(r.headers.get('x-answered-by'), 'leader');
  const echo = (await r.json()) as Record<string, string>;
  assert.equal(echo.method, 'PUT');
  assert.equal(echo.url, '/v1/ns/dao:x?x=1');
  assert.equal(echo.host, new URL(followerUrl).host, 'the Host the client used (peer signatures cover it)');
  assert.equal(echo.signature, 'sig1=:abc:');
  assert.match(echo.forwarded!, /^for="127\.0\.0\.1"$/);
  assert.equal(echo.body, body, 'byte for byte');
  // Appends are served here.
  const a = await fetch(`${followerUrl}/v1/ns/dao:x/entries`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.deepEqual(await a.json(), { served: 'here' });
});

test('while leading nothing is forwarded; with no holder the answer is 503 LEASE_LOST', async () => {
  leading = true;
  const here = await fetch(`${followerUrl}/v1/ns/dao:x`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  assert.deepEqual(await here.json(), { served: 'here' });
  leading = false;
  const saved = leaderUrl;
  leaderUrl = undefined;
  try {
    // A governance POST to the follower, which only the holder serves: answered 503 LEASE_LOST.
    const refusedAtFollower = async () => {
      const r = await fetch(`${followerUrl}/v1/governance`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(r.status, 503);
      assert.equal(((await r.json()) as { code: string }).code, 'LEASE_LOST');
    };
    await refusedAtFollower();
    leaderUrl = 'http://127.0.0.1:1'; // nothing listens there
    await refusedAtFollower();
  } finally {
    leaderUrl = saved;
  }
});
