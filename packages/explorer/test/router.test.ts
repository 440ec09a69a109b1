import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseRoute, routePath, type Route } from '../src/router.ts';

test('every page has a path under /explorer/ and back', () => {
  const routes: Route[] = [
    { page: 'federation' },
    { page: 'node', node: 'alpha.vaultmesh.local' },
    { page: 'namespace', node: 'alpha.vaultmesh.local', ns: 'dao:vaultmesh' },
    { page: 'anchoring' },
    { page: 'messages' },
    { page: 'evidence' },
    { page: 'verify' },
  ];
  for (const r of routes) assert.deepEqual(parseRoute(routePath(r)), r);
  assert.equal(routePath({ page: 'namespace', node: 'a', ns: 'dao:x' }), '/explorer/nodes/a/ns/dao%3Ax');
  assert.deepEqual(parseRoute('/explorer'), { page: 'federation' });
  assert.deepEqual(parseRoute('/explorer/nodes/a/ns/dao:x/'), { page: 'namespace', node: 'a', ns: 'dao:x' });
});

test('unknown paths are a not-found page, never an exception', () => {
  for (const p of [
    '/explorer/nope',
    '/explorer/nodes',
    '/explorer/nodes/a/b',
    '/explorer/nodes/%E0%A4%A/ns/x',
    '/explorer/verify/x',
  ])
    assert.equal(parseRoute(p).page, 'not-found', p);
});

test('property: any node and namespace text survives the URL round trip; any path parses', () => {
  fc.assert(
    fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (node, ns) => {
      const r: Route = { page: 'namespace', node, ns };
      assert.deepEqual(parseRoute(routePath(r)), r);
    }),
  );
  fc.assert(
    fc.property(fc.string(), (path) => {
      parseRoute(`/explorer/${path}`);
    }),
  );
});
