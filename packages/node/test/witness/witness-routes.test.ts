import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import {
  MAX_WITNESS_BODY_BYTES,
  RemembrancerError,
  addSignatures,
  collectCosignatures,
  formatAddCheckpointRequest,
  openCheckpoint,
  parseCosignatureResponse,
  parseJsonStrict,
  parseSizeResponse,
  witnessOriginHash,
} from '@vaultmesh/core';
import { witnessRoutes } from '../../src/http/index.js';
import type { Witness } from '../../src/witness/index.js';
import { TestLog, openWitness, tempDirs } from './witness-fixture.js';

const dirs = tempDirs('vm-witness-http-');
const log = new TestLog('alpha.vaultmesh.test/dao:vaultmesh', 1);
let witness: Witness;
let app: FastifyInstance;

/** An app shaped like the node's: only a strict JSON parser at the root, then the witness plugin. */
function buildApp(w: Witness): FastifyInstance {
  const a = Fastify({ logger: false });
  a.removeAllContentTypeParsers();
  a.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonStrict(body as string));
    } catch (e) {
      done(e instanceof RemembrancerError ? e : new Error('bad json'), undefined);
    }
  });
  a.post('/echo', async (request) => ({ got: request.body }));
  witnessRoutes(a, { witness: w });
  return a;
}

before(async () => {
  witness = openWitness(dirs.make(), [log]);
  app = buildApp(witness);
  await app.ready();
});
after(async () => {
  await app.close();
  await witness.close();
  dirs.cleanup();
});

const post = (payload: string | Buffer, headers: Record<string, string> = { 'content-type': 'text/plain' }) =>
  app.inject({ method: 'POST', url: '/v1/witness/add-checkpoint', payload, headers });

function jsonError(
  r: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
) {
  assert.equal(r.statusCode, status, r.body);
  assert.equal(r.headers['content-type'], 'application/json; charset=utf-8');
  assert.equal((JSON.parse(r.body) as { code: string }).code, code);
}

describe('POST /v1/witness/add-checkpoint', () => {
  test('200: the body is the cosignature line, verifiable with the witness key', async () => {
    const r = await post(log.request(0, 10));
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    assert.match(r.body, /^\u2014 beta\.vaultmesh\.test\/witness [A-Za-z0-9+/]+=*\n$/);
    const cosigned = addSignatures(log.checkpoint(10), parseCosignatureResponse(r.body));
    assert.equal(collectCosignatures(cosigned, [witness.verifier()]).length, 1);
  });

  test('409: Content-Type text/x.tlog.size and the stored size, then the right old size and proof succeed', async () => {
    const r = await post(log.request(3, 20));
    assert.equal(r.statusCode, 409);
    assert.equal(r.headers['content-type'], 'text/x.tlog.size');
    assert.equal(r.body, '10\n');
    const again = await post(log.request(parseSizeResponse(r.body), 20));
    assert.equal(again.statusCode, 200, again.body);
  });

  test('400, 403, 404, 422 as the spec says, with the API error body', async () => {
    jsonError(await post('old 20\n'), 400, 'WITNESS_REQUEST_MALFORMED');
    jsonError(
      await post(formatAddCheckpointRequest({ oldSize: 21, proof: [], checkpoint: log.checkpoint(20) })),
      400,
      'WITNESS_REQUEST_MALFORMED',
    );
    jsonError(await post(Buffer.from([0x6f, 0x6c, 0x64, 0x20, 0xc3, 0x28, 0x0a])), 400, 'WITNESS_REQUEST_MALFORMED');
    const impostor = new TestLog(log.origin, 66).growTo(20);
    jsonError(
      await post(formatAddCheckpointRequest({ oldSize: 20, proof: [], checkpoint: impostor.checkpoint(20) })),
      403,
      'FORBIDDEN',
    );
    jsonError(await post(new TestLog('nobody.example/log', 3).request(0, 2)), 404, 'NOT_FOUND');
    const proof = log.growTo(30).tree.consistencyProof(20, 30).reverse();
    jsonError(
      await post(formatAddCheckpointRequest({ oldSize: 20, proof, checkpoint: log.checkpoint(30) })),
      422,
      'CHECKPOINT_INCONSISTENT',
    );
  });

  test('the body is read as text whatever the Content-Type, even none or a broken one', async () => {
    let size = 20;
    for (const headers of [
      { 'content-type': 'application/json' },
      { 'content-type': 'application/octet-stream' },
      { 'content-type': 'text/plain; charset=utf-8' },
      { 'content-type': 'multipart/form-data; boundary=x' },
      { 'content-type': '???' },
      {},
    ] as Record<string, string>[]) {
      const r = await post(Buffer.from(log.request(size, size + 1)), headers);
      assert.equal(r.statusCode, 200, `${JSON.stringify(headers)}: ${r.body}`);
      size++;
    }
    // An empty POST is a malformed request, not a server error.
    jsonError(
      await app.inject({ method: 'POST', url: '/v1/witness/add-checkpoint' }),
      400,
      'WITNESS_REQUEST_MALFORMED',
    );
  });

  test('bodies beyond the limit are refused without being parsed', async () => {
    const r = await post(Buffer.alloc(MAX_WITNESS_BODY_BYTES + 1, 0x41));
    assert.equal(r.statusCode, 413);
  });

  test('the JSON parser of the rest of the app is untouched', async () => {
    const ok = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: '{"a":1}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { got: { a: 1 } });
    const dup = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: '{"a":1,"a":2}',
      headers: { 'content-type': 'application/json' },
    });
    assert.notEqual(dup.statusCode, 200);
    const text = await app.inject({
      method: 'POST',
      url: '/echo',
      payload: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    assert.equal(text.statusCode, 415);
  });

  test('concurrent requests for one origin: exactly one of the racers from the same old size wins', async () => {
    const from = (await witness.checkpointFor(log.origin))!.size;
    log.growTo(from + 50);
    const bodies = Array.from({ length: 20 }, (_, i) => log.request(from, from + 1 + i));
    const rs = await Promise.all(bodies.map((b) => post(b)));
    const won = rs.filter((r) => r.statusCode === 200);
    assert.equal(won.length, 1);
    for (const r of rs) if (r.statusCode !== 200) assert.equal(r.statusCode, 409);
    // Every loser was told the winner's size, so none can roll the witness back.
    const size = (await witness.checkpointFor(log.origin))!.size;
    assert.ok(size > from);
    for (const r of rs.filter((x) => x.statusCode === 409)) assert.equal(r.body, `${size}\n`);
  });
});

describe('GET /v1/witness/:originHex/checkpoint', () => {
  test('200 with the cosigned checkpoint, 404 for a log never cosigned, 400 for a malformed hash', async () => {
    const r = await app.inject({ method: 'GET', url: `/v1/witness/${witnessOriginHash(log.origin)}/checkpoint` });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    const opened = openCheckpoint(r.body, log.signer.verifier());
    assert.equal(opened.checkpoint.size, (await witness.checkpointFor(log.origin))!.size);
    assert.equal(collectCosignatures(r.body, [witness.verifier()]).length, 1);
    jsonError(
      await app.inject({ method: 'GET', url: `/v1/witness/${witnessOriginHash('nobody.example/log')}/checkpoint` }),
      404,
      'NOT_FOUND',
    );
    jsonError(await app.inject({ method: 'GET', url: '/v1/witness/not-a-hash/checkpoint' }), 400, 'INVALID_ARGUMENT');
  });
});

describe('over a real socket', () => {
  test('keep-alive POSTs with and without a Content-Type header', async () => {
    const dir = dirs.make();
    const own = new TestLog('socket.vaultmesh.test/ns:a', 12);
    const w = openWitness(dir, [own]);
    const a = buildApp(w);
    await a.listen({ host: '127.0.0.1', port: 0 });
    const { port } = a.server.address() as AddressInfo;
    const agent = new (await import('node:http')).Agent({ keepAlive: true, maxSockets: 1 });
    const send = (body: string, contentType?: string) =>
      new Promise<{ status: number; type: string | undefined; body: string }>((resolve, reject) => {
        const headers: Record<string, string | number> = { 'content-length': Buffer.byteLength(body) };
        if (contentType) headers['content-type'] = contentType;
        const req = httpRequest(
          { host: '127.0.0.1', port, method: 'POST', path: '/v1/witness/add-checkpoint', headers, agent },
          (res) => {
            let data = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (data += d));
            res.on('end', () => resolve({ status: res.statusCode!, type: res.headers['content-type'], body: data }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    try {
      const r1 = await send(own.request(0, 4));
      assert.equal(r1.status, 200, r1.body);
      const r2 = await send(own.request(0, 9), 'text/plain');
      assert.deepEqual([r2.status, r2.type, r2.body], [409, 'text/x.tlog.size', '4\n']);
      const r3 = await send(own.request(4, 9), 'application/x-whatever');
      assert.equal(r3.status, 200, r3.body);
    } finally {
      agent.destroy();
      await a.close();
      await w.close();
    }
  });
});
