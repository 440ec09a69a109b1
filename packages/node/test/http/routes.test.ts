import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  NoteVerifier,
  base64Decode,
  base64Encode,
  canonicalBytes,
  leafHash,
  openCheckpoint,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
} from '@vaultmesh/core';
import { startTestServer, type TestServer } from './test-server.js';

const NS = 'dao:vaultmesh';
const enc = encodeURIComponent(NS);

let s: TestServer;
const auth = () => ({ authorization: `Bearer ${s.token}` });

async function sizeOf(ns = NS): Promise<number> {
  const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${encodeURIComponent(ns)}` });
  return (r.json() as { size: number }).size;
}

function expectError(
  r: { statusCode: number; json(): unknown },
  status: number,
  code: string,
): { code: string; message: string; pointer?: string } {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  const body = r.json() as { code: string; message: string };
  assert.equal(body.code, code);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
  return body as { code: string; message: string; pointer?: string };
}

before(async () => {
  s = await startTestServer({ queueMaxEntries: 1000 });
  const r = await s.app.inject({ method: 'PUT', url: `/v1/ns/${enc}`, headers: auth(), payload: {} });
  assert.equal(r.statusCode, 201);
});
after(async () => s.close());

describe('health and node', () => {
  test('GET /healthz', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(r.statusCode, 200);
    assert.deepEqual(r.json(), { status: 'ok' });
  });

  test('GET /metrics is Prometheus text', async () => {
    await s.app.inject({ method: 'GET', url: '/healthz' });
    const r = await s.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(r.statusCode, 200);
    assert.match(r.headers['content-type'] as string, /^text\/plain/);
    assert.match(r.body, /# TYPE remembrancer_http_requests_total counter/);
    assert.match(r.body, /remembrancer_tree_size\{namespace="dao:vaultmesh"\}/);
  });

  test('GET /v1/node', async () => {
    const r = await s.app.inject({ method: 'GET', url: '/v1/node' });
    const body = r.json() as Record<string, unknown>;
    assert.equal(body.name, 'test.vaultmesh.local');
    assert.equal(typeof body.version, 'string');
    assert.match(body.witness_vkey as string, /^test\.vaultmesh\.local\/witness\+[0-9a-f]{8}\+/);
    assert.match(body.log_vkey as string, /^test\.vaultmesh\.local\+[0-9a-f]{8}\+/);
    assert.match(body.auth_key as string, /^test\.vaultmesh\.local\/peer\+[0-9a-f]{8}\+/);
    assert.equal(body.endpoint, 'http://127.0.0.1:8080');
    // The governance log is a namespace of the node's own, listed first.
    assert.deepEqual(body.namespaces, ['sys:governance', NS]);
  });

  test('unknown routes are a JSON 404', async () => {
    expectError(await s.app.inject({ method: 'GET', url: '/v1/nope' }), 404, 'NOT_FOUND');
  });
});

describe('namespaces', () => {
  test('list and show', async () => {
    const list = (await s.app.inject({ method: 'GET', url: '/v1/ns' })).json() as { namespaces: Array<{ id: string }> };
    assert.deepEqual(
      list.namespaces.map((n) => n.id),
      ['sys:governance', NS],
    );
    const show = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}` })).json() as Record<string, unknown>;
    assert.equal(show.id, NS);
    assert.equal(show.origin, `test.vaultmesh.local/${NS}`);
    assert.match(show.log_vkey as string, /^test\.vaultmesh\.local\/dao:vaultmesh\+[0-9a-f]{8}\+/);
  });

  test('create needs the admin token', async () => {
    expectError(await s.app.inject({ method: 'PUT', url: '/v1/ns/a:b', payload: {} }), 401, 'UNAUTHORIZED');
    expectError(
      await s.app.inject({ method: 'PUT', url: '/v1/ns/a:b', headers: { authorization: 'Bearer nope' }, payload: {} }),
      401,
      'UNAUTHORIZED',
    );
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: '/v1/ns/a:b',
        headers: { authorization: `Basic ${s.token}` },
        payload: {},
      }),
      401,
      'UNAUTHORIZED',
    );
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/a:b' }), 404, 'NAMESPACE_NOT_FOUND');
  });

  test('bad ids, duplicates and bad bodies are rejected', async () => {
    for (const bad of ['nocolon', 'UPPER:case', ':x', 'x:', 'a:b:c', '-a:b', 'a b:c', `${'a'.repeat(64)}:b`]) {
      expectError(
        await s.app.inject({ method: 'PUT', url: `/v1/ns/${encodeURIComponent(bad)}`, headers: auth(), payload: {} }),
        400,
        'INVALID_NAMESPACE_ID',
      );
      expectError(
        await s.app.inject({ method: 'GET', url: `/v1/ns/${encodeURIComponent(bad)}` }),
        400,
        'INVALID_NAMESPACE_ID',
      );
    }
    // Create-only PUT (If-None-Match: *) refuses an existing namespace; a plain PUT updates it.
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: `/v1/ns/${enc}`,
        headers: { ...auth(), 'if-none-match': '*' },
        payload: {},
      }),
      409,
      'NAMESPACE_EXISTS',
    );
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: '/v1/ns/no:such',
        headers: { ...auth(), 'if-match': '*' },
        payload: {},
      }),
      404,
      'NAMESPACE_NOT_FOUND',
    );
    expectError(
      await s.app.inject({ method: 'PUT', url: '/v1/ns/sys:other', headers: auth(), payload: {} }),
      403,
      'FORBIDDEN',
    );
    expectError(
      await s.app.inject({ method: 'PUT', url: '/v1/ns/x:y', headers: auth(), payload: { visibility: 'secret' } }),
      400,
      'POLICY_INVALID',
    );
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: '/v1/ns/x:y',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: '[1]',
      }),
      400,
      'INVALID_ARGUMENT',
    );
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/x:y' }), 404, 'NAMESPACE_NOT_FOUND');
  });
});

describe('appending', () => {
  test('POST entries returns index and RFC 6962 leaf hash of the canonical bytes', async () => {
    const entry = { z: 1, a: 'memory', n: [1, 2.5, { b: true }] };
    const r = await s.app.inject({ method: 'POST', url: `/v1/ns/${enc}/entries`, headers: auth(), payload: entry });
    assert.equal(r.statusCode, 201);
    const body = r.json() as { index: number; leaf_hash: string };
    assert.equal(typeof body.index, 'number');
    assert.equal(body.leaf_hash, base64Encode(leafHash(canonicalBytes(entry))));
    const got = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/${body.index}` });
    assert.equal(got.statusCode, 200);
    assert.equal(
      got.body,
      `{"index":${body.index},"entry":{"a":"memory","n":[1,2.5,{"b":true}],"z":1},"leaf_hash":"${body.leaf_hash}"}`,
    );
  });

  test('POST batch appends in order', async () => {
    const before = await sizeOf();
    const entries = Array.from({ length: 50 }, (_, i) => ({ i }));
    const r = await s.app.inject({ method: 'POST', url: `/v1/ns/${enc}/batch`, headers: auth(), payload: { entries } });
    assert.equal(r.statusCode, 201);
    const { indices } = r.json() as { indices: number[] };
    assert.deepEqual(
      indices,
      entries.map((_, i) => before + i),
    );
    assert.equal(await sizeOf(), before + 50);
  });

  test('every bad write is a 4xx with a code and changes nothing', async () => {
    const before = await sizeOf();
    const post = (
      url: string,
      payload: string,
      headers: Record<string, string> = { ...auth(), 'content-type': 'application/json' },
    ) => s.app.inject({ method: 'POST', url, headers, payload });
    const E = `/v1/ns/${enc}/entries`;
    const B = `/v1/ns/${enc}/batch`;
    expectError(await post(E, '{"a":'), 400, 'INVALID_JSON');
    expectError(await post(E, ''), 400, 'INVALID_JSON');
    expectError(await post(E, '{"a":1,"a":2}'), 400, 'INVALID_JSON');
    expectError(await post(E, '[1,2]'), 400, 'ENTRY_NOT_OBJECT');
    expectError(await post(E, '"text"'), 400, 'ENTRY_NOT_OBJECT');
    expectError(await post(E, 'null'), 400, 'ENTRY_NOT_OBJECT');
    expectError(await post(E, '42'), 400, 'ENTRY_NOT_OBJECT');
    expectError(await post(E, JSON.stringify({ big: 'x'.repeat(65536) })), 413, 'ENTRY_TOO_LARGE');
    expectError(await post(E, '{"a":1}', { 'content-type': 'application/json' }), 401, 'UNAUTHORIZED');
    expectError(
      await post(E, '{"a":1}', { 'content-type': 'application/json', authorization: 'Bearer wrong' }),
      401,
      'UNAUTHORIZED',
    );
    expectError(await post(E, '{"a":1}', { ...auth(), 'content-type': 'text/plain' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectError(await post('/v1/ns/no:such/entries', '{"a":1}'), 404, 'NAMESPACE_NOT_FOUND');
    expectError(await post('/v1/ns/Bad_Id/entries', '{"a":1}'), 400, 'INVALID_NAMESPACE_ID');
    expectError(await post(B, '{"entries":[{"ok":1},[2]]}'), 400, 'ENTRY_NOT_OBJECT');
    expectError(
      await post(B, JSON.stringify({ entries: [{ ok: 1 }, { big: 'x'.repeat(70000) }] })),
      413,
      'ENTRY_TOO_LARGE',
    );
    expectError(await post(B, '{"entries":[]}'), 400, 'INVALID_ARGUMENT');
    expectError(await post(B, '{"items":[{"a":1}]}'), 400, 'INVALID_ARGUMENT');
    expectError(await post(B, '[{"a":1}]'), 400, 'INVALID_ARGUMENT');
    expectError(await post(B, '{"entries":[{"a":1}'), 400, 'INVALID_JSON');
    // Message entries and delivery records are the node's alone (a forged one would send a
    // message or mark one delivered): FORBIDDEN, pointer /format.
    const forged = expectError(await post(E, '{"format":"namespace.message@1.0.0","seq":1}'), 403, 'FORBIDDEN');
    assert.equal(forged.pointer, '/format');
    const inBatch = expectError(
      await post(B, '{"entries":[{"a":1},{"format":"namespace.message.delivery@1.0.0"}]}'),
      403,
      'FORBIDDEN',
    );
    assert.equal(inBatch.pointer, '/entries/1/format');
    assert.equal(await sizeOf(), before);
  });

  test('a full queue pushes back with 503 and Retry-After, storing nothing', async () => {
    const before = await sizeOf();
    const entries = Array.from({ length: 1001 }, (_, i) => ({ i }));
    const r = await s.app.inject({ method: 'POST', url: `/v1/ns/${enc}/batch`, headers: auth(), payload: { entries } });
    expectError(r, 503, 'QUEUE_FULL');
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(await sizeOf(), before);
  });

  test('reading entries out of range or with bad indices', async () => {
    const size = await sizeOf();
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/${size}` }), 400, 'INDEX_OUT_OF_RANGE');
    for (const bad of ['-1', 'abc', '01', '1.5', '99999999999999999999']) {
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/${bad}` }), 400, 'INVALID_ARGUMENT');
    }
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/no:such/entries/0' }), 404, 'NAMESPACE_NOT_FOUND');
  });
});

describe('checkpoints, proofs and receipts', () => {
  let size = 0;
  let logVerifier: NoteVerifier;
  before(async () => {
    await s.app.inject({
      method: 'POST',
      url: `/v1/ns/${enc}/batch`,
      headers: auth(),
      payload: { entries: Array.from({ length: 300 }, (_, i) => ({ r: i })) },
    });
    await s.engine.publishCheckpoint(NS);
    size = await sizeOf();
    const show = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}` })).json() as { log_vkey: string };
    logVerifier = NoteVerifier.fromVkey(show.log_vkey);
  });

  test('GET checkpoint is a signed note verifiable with the namespace log key', async () => {
    const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/checkpoint` });
    assert.equal(r.statusCode, 200);
    assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8');
    const { checkpoint } = openCheckpoint(r.body, logVerifier);
    assert.equal(checkpoint.origin, `test.vaultmesh.local/${NS}`);
    assert.equal(checkpoint.size, size);
  });

  test('inclusion proofs verify against the root at that size', async () => {
    for (const [index, sz] of [
      [0, 1],
      [5, 17],
      [size - 1, size],
      [200, size],
    ] as const) {
      const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/proof/inclusion?index=${index}&size=${sz}` });
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json() as { index: number; size: number; root: string; proof: string[] };
      const entry = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/${index}` })).json() as {
        leaf_hash: string;
      };
      verifyInclusion(index, sz, base64Decode(entry.leaf_hash), body.proof.map(base64Decode), base64Decode(body.root));
    }
  });

  test('consistency proofs verify between roots', async () => {
    const root = async (n: number) => {
      const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/proof/inclusion?index=0&size=${n}` });
      return base64Decode((r.json() as { root: string }).root);
    };
    for (const [a, b] of [
      [1, 2],
      [7, 300],
      [256, size],
      [size, size],
    ] as const) {
      const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/proof/consistency?from=${a}&to=${b}` });
      assert.equal(r.statusCode, 200);
      const body = r.json() as { proof: string[] };
      verifyConsistency(a, b, body.proof.map(base64Decode), await root(a), await root(b));
    }
  });

  test('bad proof requests', async () => {
    const get = (q: string) => s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/proof/${q}` });
    expectError(await get(`inclusion?index=0&size=${size + 1}`), 400, 'SIZE_OUT_OF_RANGE');
    expectError(await get(`inclusion?index=5&size=5`), 400, 'INDEX_OUT_OF_RANGE');
    expectError(await get(`inclusion?index=0`), 400, 'INVALID_ARGUMENT');
    expectError(await get(`inclusion?index=x&size=3`), 400, 'INVALID_ARGUMENT');
    expectError(await get(`consistency?from=5&to=3`), 400, 'INVALID_RANGE');
    expectError(await get(`consistency?from=1&to=${size + 1}`), 400, 'SIZE_OUT_OF_RANGE');
    expectError(await get(`consistency?to=3`), 400, 'INVALID_ARGUMENT');
    expectError(
      await s.app.inject({ method: 'GET', url: '/v1/ns/no:such/proof/inclusion?index=0&size=1' }),
      404,
      'NAMESPACE_NOT_FOUND',
    );
  });

  test('receipts verify offline, in JSON and as tlog-proof text', async () => {
    const show = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}` })).json() as { log_vkey: string };
    const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/42` });
    assert.equal(r.statusCode, 200);
    const receipt = r.json() as Record<string, unknown>;
    assert.equal(receipt.format, 'vaultmesh.receipt@1');
    assert.equal(receipt.index, 42);
    const v = verifyReceipt(receipt, { logVkeys: [show.log_vkey] });
    assert.ok(v.ok, JSON.stringify(v.checks));
    const text = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/42?format=tlog-proof` });
    assert.equal(text.statusCode, 200);
    assert.equal(text.body, receipt.tlog_proof);
    const tampered = { ...receipt, entry: { forged: true } };
    assert.equal(verifyReceipt(tampered as never, { logVkeys: [show.log_vkey] }).ok, false);
  });

  test('receipt rejections', async () => {
    expectError(
      await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/${size + 10}` }),
      400,
      'INDEX_OUT_OF_RANGE',
    );
    expectError(
      await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/0?format=xml` }),
      400,
      'INVALID_ARGUMENT',
    );
    await s.app.inject({ method: 'POST', url: `/v1/ns/${enc}/entries`, headers: auth(), payload: { late: true } });
    const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/receipt/${size}` });
    expectError(r, 409, 'NOT_YET_IN_CHECKPOINT');
    assert.equal(r.headers['retry-after'], '1');
  });

  test('tiles: full tiles are immutable, partial tiles are prefixes, entry bundles hold the entries', async () => {
    const full = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/0/000` });
    assert.equal(full.statusCode, 200, full.body);
    assert.equal(full.headers['content-type'], 'application/octet-stream');
    assert.equal(full.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(full.rawPayload.length, 256 * 32);
    const partial = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/0/000.p/10` });
    assert.equal(partial.statusCode, 200);
    assert.deepEqual(partial.rawPayload, full.rawPayload.subarray(0, 320));
    const first = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/entries/0` })).json() as {
      leaf_hash: string;
    };
    assert.equal(base64Encode(new Uint8Array(full.rawPayload.subarray(0, 32))), first.leaf_hash);
    const bundle = await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/entries/000.p/2` });
    assert.equal(bundle.statusCode, 200);
    const len0 = bundle.rawPayload.readUInt16BE(0);
    const e0 = bundle.rawPayload.subarray(2, 2 + len0);
    assert.equal(base64Encode(leafHash(new Uint8Array(e0))), first.leaf_hash);
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/0/x001/000` }), 404, 'NOT_FOUND');
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/1/000` }), 404, 'NOT_FOUND');
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}/tile/0/0` }), 400, 'INVALID_ARGUMENT');
  });
});
