import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initNode } from '../../src/config/node-config.js';
import { runNode, type RunningNode } from '../../src/daemon/run-node.js';
import { CORS_EXPOSED_HEADERS } from '../../src/http/cors.js';
import { routeScope, type ScopeName } from '../../src/http/scopes.js';
import { tokenSha256 } from '../../src/namespaces/writer-authorization.js';
import { startTestServer } from './test-server.js';

// Issue 13: the public read API answers cross-origin reads (the explorer of one node reads its
// peers); writes, admin and peer routes do not. A real node (federation, witness, peer scope).

const READER = 'cors-test-read-token-0123456789abcdef';
const WRITER = 'cors-test-write-token-0123456789abcdef';
let root: string;
let node: RunningNode;
const admin = () => ({ authorization: `Bearer ${node.identity.adminToken}` });

function assertCors(r: { headers: Record<string, unknown> }, what: string): void {
  assert.equal(r.headers['access-control-allow-origin'], '*', what);
  assert.equal(r.headers['access-control-expose-headers'], CORS_EXPOSED_HEADERS, what);
}

function assertNoCors(r: { headers: Record<string, unknown> }, what: string): void {
  for (const h of Object.keys(r.headers)) assert.ok(!h.startsWith('access-control-'), `${what}: ${h}`);
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'remembrancer-cors-'));
  const dir = join(root, 'node');
  initNode(dir, 'cors.vaultmesh.local', { listen: '127.0.0.1:0', gossipIntervalMs: 0 });
  node = await runNode({ dataDir: dir, logger: false });
  for (const [id, spec] of [
    ['dao:open', {}],
    [
      'fin:hidden',
      {
        visibility: 'private',
        writers: [
          { id: 'r', token_sha256: tokenSha256(READER), scopes: ['read'] },
          { id: 'w', token_sha256: tokenSha256(WRITER), scopes: ['write'] },
        ],
      },
    ],
  ] as const) {
    const r = await node.app.inject({ method: 'PUT', url: `/v1/ns/${id}`, headers: admin(), payload: spec });
    assert.equal(r.statusCode, 201, r.body);
  }
  const r = await node.app.inject({
    method: 'POST',
    url: '/v1/ns/fin:hidden/entries',
    headers: { authorization: `Bearer ${WRITER}` },
    payload: { secret: 'classified' },
  });
  assert.equal(r.statusCode, 201, r.body);
});
after(async () => {
  await node?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('CORS on the public read API', () => {
  test('GET and HEAD of public and namespaceRead routes allow any origin, and expose the headers pages read', async () => {
    for (const url of [
      '/healthz',
      '/v1/node',
      '/v1/ns',
      '/v1/federation/status',
      '/v1/governance',
      '/v1/ns/dao:open',
      '/v1/ns/dao:open/checkpoint',
      '/v1/ns/dao:open/entries',
      '/v1/ns/dao:open/policy',
    ]) {
      const r = await node.app.inject({ method: 'GET', url, headers: { origin: 'http://peer.example' } });
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      assertCors(r, url);
      const h = await node.app.inject({ method: 'HEAD', url });
      assertCors(h, `HEAD ${url}`);
    }
    // Errors of read routes are readable too (a page shows why).
    const missing = await node.app.inject({ method: 'GET', url: '/v1/ns/dao:open/entries/99' });
    assert.equal(missing.statusCode, 400);
    assertCors(missing, 'an error of a read route');
    assert.match(CORS_EXPOSED_HEADERS, /X-Witness-Cosignatures/);
  });

  test('a preflight of a read route answers 204 with GET, HEAD and the Authorization and Accept headers', async () => {
    for (const url of ['/v1/node', '/v1/ns/dao:open/entries', '/v1/ns/fin:hidden', '/v1/ns/dao:open/leaf/00']) {
      const r = await node.app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: 'http://peer.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'authorization',
        },
      });
      assert.equal(r.statusCode, 204, url);
      assert.equal(r.body, '');
      assert.equal(r.headers['access-control-allow-origin'], '*');
      assert.equal(r.headers['access-control-allow-methods'], 'GET, HEAD');
      assert.equal(r.headers['access-control-allow-headers'], 'Authorization, Accept');
    }
  });

  test('writes, admin and peer routes send no CORS header and have no preflight', async () => {
    const write = await node.app.inject({
      method: 'POST',
      url: '/v1/ns/dao:open/entries',
      headers: { ...admin(), origin: 'http://evil.example' },
      payload: { a: 1 },
    });
    assert.equal(write.statusCode, 201, write.body);
    assertNoCors(write, 'POST entries');
    const refused = await node.app.inject({ method: 'POST', url: '/v1/ns/dao:open/entries', payload: { a: 1 } });
    assert.equal(refused.statusCode, 401);
    assertNoCors(refused, 'a refused write');
    const put = await node.app.inject({ method: 'PUT', url: '/v1/ns/dao:new', headers: admin(), payload: {} });
    assert.equal(put.statusCode, 201, put.body);
    assertNoCors(put, 'PUT ns (admin)');
    const governance = await node.app.inject({ method: 'POST', url: '/v1/governance', payload: {} });
    assertNoCors(governance, 'POST governance (public write)');
    const peer = await node.app.inject({ method: 'GET', url: '/v1/federation/peer/view' });
    assert.ok([401, 403].includes(peer.statusCode), peer.body);
    assertNoCors(peer, 'peer route');

    for (const url of ['/v1/federation/peer/view', '/v1/witness/add-checkpoint', '/v1/ns/dao:open/batch']) {
      const r = await node.app.inject({
        method: 'OPTIONS',
        url,
        headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' },
      });
      assert.equal(r.statusCode, 404, url);
      assertNoCors(r, `OPTIONS ${url}`);
    }
    // A path with a read and a write (GET and POST …/entries): the preflight allows only the read.
    const both = await node.app.inject({ method: 'OPTIONS', url: '/v1/ns/dao:open/entries' });
    assert.equal(both.headers['access-control-allow-methods'], 'GET, HEAD');
  });

  test('a private namespace read without a token is still 401/403, with no data', async () => {
    for (const url of ['/v1/ns/fin:hidden', '/v1/ns/fin:hidden/entries', '/v1/ns/fin:hidden/entries/0']) {
      const anon = await node.app.inject({ method: 'GET', url, headers: { origin: 'http://peer.example' } });
      assert.equal(anon.statusCode, 401, url);
      assert.doesNotMatch(anon.body, /classified/);
      const wrong = await node.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer nope' } });
      assert.ok([401, 403].includes(wrong.statusCode), url);
      assert.doesNotMatch(wrong.body, /classified/);
      const ok = await node.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${READER}` } });
      assert.equal(ok.statusCode, 200, url);
      assertCors(ok, url);
    }
  });

  test('every GET route of the public and namespaceRead scopes has its preflight; no other route has one', async () => {
    const t = await startTestServer();
    const all: Array<{ method: string; url: string; scope: ScopeName | undefined }> = [];
    t.app.addHook('onRoute', (route) => {
      // Read once the scope's own hook has marked it: onRoute hooks of the root run first.
      queueMicrotask(() => {
        for (const method of [route.method].flat())
          all.push({ method, url: route.url, scope: routeScope(route.config) });
      });
    });
    try {
      await t.app.ready();
      const preflights = new Set(all.filter((r) => r.method === 'OPTIONS').map((r) => r.url));
      const reads = all.filter((r) => r.method === 'GET' && (r.scope === 'public' || r.scope === 'namespaceRead'));
      assert.ok(reads.length > 20, `${reads.length} read routes`);
      for (const r of reads) assert.ok(preflights.has(r.url), `GET ${r.url} has no preflight`);
      const readUrls = new Set(reads.map((r) => r.url));
      for (const url of preflights) assert.ok(readUrls.has(url), `OPTIONS ${url} is not a read route`);
      const others = all.filter((r) => r.scope === 'admin' || r.scope === 'writer');
      assert.ok(others.length > 3);
      for (const r of others) if (!readUrls.has(r.url)) assert.ok(!preflights.has(r.url), `${r.method} ${r.url}`);
    } finally {
      await t.close();
    }
  });
});
