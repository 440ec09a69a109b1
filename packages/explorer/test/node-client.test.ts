import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError } from '../src/api/api-error.ts';
import { NodeClient, nsPath } from '../src/api/node-client.ts';
import { NodeDirectory } from '../src/api/node-directory.ts';

// A real HTTP server on an ephemeral port, answering as a node does (docs/api.md error bodies).
let server: Server;
let base: string;
const seenAccept: string[] = [];
before(async () => {
  server = createServer((req, res) => {
    seenAccept.push(String(req.headers.accept));
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.url === '/v1/node') return send(200, 'application/json', '{"name":"alpha"}');
    if (req.url === '/v1/ns/dao%3Ax/checkpoint') return send(200, 'text/plain', 'alpha/dao:x\n1\nAAAA\n\n— sig\n');
    if (req.url === '/v1/federation/status')
      return send(404, 'application/json', '{"code":"NOT_FOUND","message":"no federation"}');
    if (req.url === '/html') return send(200, 'text/html', '<html>');
    if (req.url === '/slow') return void setTimeout(() => send(200, 'application/json', '{}'), 2000).unref();
    return send(500, 'text/plain', 'boom');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function failure(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiError, String(e));
    return e;
  }
  assert.fail('expected a failure');
}

test('JSON and text answers; the node error body gives the code', async () => {
  const c = new NodeClient(`${base}/`);
  assert.deepEqual(await c.json('/v1/node'), { name: 'alpha' });
  assert.equal((await c.text(nsPath('dao:x', '/checkpoint'))).text.split('\n')[0], 'alpha/dao:x');
  const e = await failure(c.json('/v1/federation/status'));
  assert.deepEqual([e.code, e.status, e.message], ['NOT_FOUND', 404, 'no federation']);
  assert.equal((await failure(c.json('/html'))).code, 'BAD_ANSWER');
  assert.equal((await failure(c.json('/other'))).code, 'BAD_ANSWER');
  assert.equal((await failure(c.text('/other'))).code, 'HTTP_ERROR');
  assert.ok(seenAccept.includes('application/json') && seenAccept.includes('text/plain'));
});

test('no answer in time, or nothing listening, is UNREACHABLE', async () => {
  const slow = await failure(new NodeClient(base, undefined, 200).json('/slow'));
  assert.equal(slow.code, 'UNREACHABLE');
  assert.match(slow.message, /no answer within 200 ms/);
  // A port nothing listens on: bind one, read it, close it.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  assert.equal((await failure(new NodeClient(`http://127.0.0.1:${port}`).json('/v1/node'))).code, 'UNREACHABLE');
});

test('the directory reads only this node and registry peers', () => {
  const dir = new NodeDirectory(
    { name: 'alpha', version: '1', endpoint: base, log_vkey: '', witness_vkey: '', namespaces: [] },
    { peers: [{ id: 'beta', endpoint: 'http://127.0.0.1:9' }] },
  );
  assert.equal(dir.clientFor('alpha'), dir.local);
  assert.equal(dir.clientFor('beta')?.base, 'http://127.0.0.1:9');
  assert.equal(dir.clientFor('evil.example'), undefined);
  assert.deepEqual(
    dir.peers.map((p) => p.id),
    ['beta'],
  );
});
