import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { routeScope, type ScopeName } from '../../src/http/scopes.js';
import { startTestServer, type TestServer } from './test-server.js';

// Issue 9: a route's protection is the scope it is declared in, and no route lives outside one.

let s: TestServer;
const scopes = new Map<string, ScopeName | undefined>();

before(async () => {
  s = await startTestServer();
  s.app.addHook('onRoute', (route) => {
    // Read once the scope's own hook has marked it: onRoute hooks of the root run first.
    queueMicrotask(() => scopes.set(`${String(route.method)} ${route.url}`, routeScope(route.config)));
  });
  await s.app.ready();
});
after(async () => s.close());

test('every route of the API is in the scope that protects it', () => {
  const expected: Record<string, ScopeName> = {
    'GET /healthz': 'public',
    'GET /metrics': 'public',
    'GET /v1/node': 'public',
    'GET /v1/ns': 'public',
    'GET /v1/governance': 'public',
    'POST /v1/governance': 'public',
    'GET /v1/ns/:ns': 'namespaceRead',
    'GET /v1/ns/:ns/entries/:index': 'namespaceRead',
    'GET /v1/ns/:ns/entries': 'namespaceRead',
    'GET /v1/ns/:ns/leaf/:hash': 'namespaceRead',
    'GET /explorer': 'public',
    'GET /explorer/*': 'public',
    'OPTIONS /v1/ns/:ns/entries': 'public',
    'GET /v1/ns/:ns/checkpoint': 'namespaceRead',
    'GET /v1/ns/:ns/proof/inclusion': 'namespaceRead',
    'GET /v1/ns/:ns/proof/consistency': 'namespaceRead',
    'GET /v1/ns/:ns/receipt/:index': 'namespaceRead',
    'GET /v1/ns/:ns/policy': 'namespaceRead',
    'GET /v1/ns/:ns/tile/*': 'namespaceRead',
    'POST /v1/ns/:ns/entries': 'writer',
    'POST /v1/ns/:ns/batch': 'writer',
    'PUT /v1/ns/:ns': 'admin',
    'PUT /v1/ns/:ns/cadence': 'admin',
  };
  for (const [route, scope] of Object.entries(expected)) assert.equal(scopes.get(route), scope, route);
  for (const [route, scope] of scopes) assert.ok(scope !== undefined, `${route} has no scope`);
});

test('a route added outside every scope stops the server from starting', async () => {
  const t = await startTestServer();
  try {
    t.app.get('/unscoped', async () => ({}));
    await assert.rejects(async () => t.app.ready(), /routes declared outside an authorization scope: GET \/unscoped/);
  } finally {
    await t.close().catch(() => undefined);
  }
});
