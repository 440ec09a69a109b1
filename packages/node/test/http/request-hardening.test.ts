import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MAX_ENTRY_DEPTH, MAX_JSON_DEPTH, crypto, publicKeyBase64 } from '@vaultmesh/core';
import {
  ENTRY_BODY_LIMIT_BYTES,
  NAMESPACE_SPEC_BODY_LIMIT_BYTES,
  UNAUTHENTICATED_BODY_LIMIT_BYTES,
} from '../../src/config/http-limits.js';
import { tokenSha256 } from '../../src/namespaces/writer-authorization.js';
import { startTestServer, type TestServer } from './test-server.js';

// Issue 8: bounded parsing, one decoding, one error shape, no state change on any refusal.

const NS = 'pub:open';
const enc = encodeURIComponent(NS);

let s: TestServer;
const auth = () => ({ authorization: `Bearer ${s.token}` });

function expectError(
  r: { statusCode: number; headers: Record<string, unknown>; body: string },
  status: number,
  code: string,
) {
  assert.equal(r.statusCode, status, r.body);
  assert.match(String(r.headers['content-type']), /^application\/json/);
  const body = JSON.parse(r.body) as { code: string; message: string };
  assert.equal(body.code, code, r.body);
  assert.equal(typeof body.message, 'string');
  assert.ok(body.message.length > 0);
}

async function size(): Promise<number> {
  return s.engine.sequencedSize(NS);
}

before(async () => {
  s = await startTestServer();
  const r = await s.app.inject({ method: 'PUT', url: `/v1/ns/${enc}`, headers: auth(), payload: {} });
  assert.equal(r.statusCode, 201, r.body);
});
after(async () => s.close());

describe('path segments are decoded exactly once', () => {
  test('%25 in the namespace segment is 400 INVALID_NAMESPACE_ID, not a 500', async () => {
    for (const seg of ['pub%25open', 'pub%25', '%25', 'pub%253Aopen']) {
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${seg}` }), 400, 'INVALID_NAMESPACE_ID');
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${seg}/checkpoint` }), 400, 'INVALID_NAMESPACE_ID');
    }
  });

  test('pub%3Aopen is pub:open (one decoding), pub%253Aopen is not', async () => {
    assert.equal((await s.app.inject({ method: 'GET', url: '/v1/ns/pub%3Aopen' })).statusCode, 200);
    expectError(
      await s.app.inject({ method: 'POST', url: '/v1/ns/pub%253Aopen/entries', headers: auth(), payload: { a: 1 } }),
      400,
      'INVALID_NAMESPACE_ID',
    );
  });

  test('a segment that is not percent-encoded UTF-8 is 400 INVALID_URL', async () => {
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/%E0%A4%A' }), 400, 'INVALID_URL');
  });

  test('a path parameter over the router bound is 414 URI_TOO_LONG', async () => {
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${'a'.repeat(300)}` }), 414, 'URI_TOO_LONG');
  });
});

describe('bodies: bounded parsing, strict UTF-8, per-route limits', () => {
  test('nesting beyond MAX_JSON_DEPTH is 400 INVALID_JSON; an entry beyond MAX_ENTRY_DEPTH is 400 ENTRY_TOO_DEEP; nothing stored', async () => {
    const before = await size();
    const bomb = '{"a":' + '['.repeat(MAX_JSON_DEPTH + 10);
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: bomb,
      }),
      400,
      'INVALID_JSON',
    );
    const deep = '{"a":' + '['.repeat(MAX_ENTRY_DEPTH) + ']'.repeat(MAX_ENTRY_DEPTH) + '}';
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: deep,
      }),
      400,
      'ENTRY_TOO_DEEP',
    );
    const deepest = '{"a":' + '['.repeat(MAX_ENTRY_DEPTH - 1) + ']'.repeat(MAX_ENTRY_DEPTH - 1) + '}';
    const ok = await s.app.inject({
      method: 'POST',
      url: `/v1/ns/${enc}/entries`,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: deepest,
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal(await size(), before + 1);
  });

  test('invalid UTF-8 is 400 INVALID_ENCODING, never stored as U+FFFD', async () => {
    const before = await size();
    for (const bytes of [
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d],
      [0x7b, 0x22, 0xc3, 0x22, 0x3a, 0x31, 0x7d],
      [0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x7d],
    ]) {
      const r = await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: Buffer.from(bytes),
      });
      expectError(r, 400, 'INVALID_ENCODING');
    }
    assert.equal(await size(), before);
  });

  test('a byte-order mark is refused (RFC 8259 §8.1: implementations MUST NOT add a byte order mark)', async () => {
    const r = await s.app.inject({
      method: 'POST',
      url: `/v1/ns/${enc}/entries`,
      headers: { ...auth(), 'content-type': 'application/json' },
      payload: Buffer.from('\ufeff{"a":1}'),
    });
    expectError(r, 400, 'INVALID_JSON');
  });

  test('a charset other than UTF-8 is 415; utf-8 in any case or quoted is fine', async () => {
    for (const ct of [
      'application/json; charset=latin1',
      'application/json; charset=utf-16',
      'application/json;charset="iso-8859-1"',
    ]) {
      expectError(
        await s.app.inject({
          method: 'POST',
          url: `/v1/ns/${enc}/entries`,
          headers: { ...auth(), 'content-type': ct },
          payload: '{"a":1}',
        }),
        415,
        'UNSUPPORTED_MEDIA_TYPE',
      );
    }
    for (const ct of ['application/json; charset=UTF-8', 'application/json;charset="utf-8"', 'application/json']) {
      assert.equal(
        (
          await s.app.inject({
            method: 'POST',
            url: `/v1/ns/${enc}/entries`,
            headers: { ...auth(), 'content-type': ct },
            payload: '{"a":1}',
          })
        ).statusCode,
        201,
      );
    }
  });

  test('another media type is 415 UNSUPPORTED_MEDIA_TYPE', async () => {
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { ...auth(), 'content-type': 'text/plain' },
        payload: '{"a":1}',
      }),
      415,
      'UNSUPPORTED_MEDIA_TYPE',
    );
  });

  test('each route has its own body limit: an entry body over ENTRY_BODY_LIMIT_BYTES and a spec over its limit are 413', async () => {
    const big = JSON.stringify({ s: 'x'.repeat(ENTRY_BODY_LIMIT_BYTES) });
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: big,
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const spec = JSON.stringify({ description: 'x'.repeat(NAMESPACE_SPEC_BODY_LIMIT_BYTES) });
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: `/v1/ns/${enc}`,
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: spec,
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
  });

  test('PUT /v1/ns/{ns} with a body that is not an object (null, [], "x", 1) is 400 and changes nothing', async () => {
    const view = (await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}` })).json() as { version: number };
    for (const payload of ['null', '[]', '"x"', '1']) {
      expectError(
        await s.app.inject({
          method: 'PUT',
          url: `/v1/ns/${enc}`,
          headers: { ...auth(), 'content-type': 'application/json' },
          payload,
        }),
        400,
        'INVALID_ARGUMENT',
      );
      expectError(
        await s.app.inject({
          method: 'PUT',
          url: `/v1/ns/${enc}/cadence`,
          headers: { ...auth(), 'content-type': 'application/json' },
          payload,
        }),
        400,
        'INVALID_ARGUMENT',
      );
    }
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: '/v1/ns/new:ns',
        headers: { ...auth(), 'content-type': 'application/json' },
        payload: 'null',
      }),
      400,
      'INVALID_ARGUMENT',
    );
    assert.equal((await s.app.inject({ method: 'GET', url: '/v1/ns/new:ns' })).statusCode, 404);
    assert.equal(
      ((await s.app.inject({ method: 'GET', url: `/v1/ns/${enc}` })).json() as { version: number }).version,
      view.version,
    );
  });
});

describe('credentials are checked before the body is read', () => {
  // A body that would fail parsing proves the order: the answer is the credential's, not the parser's.
  const unparsable = '[' + '{'.repeat(1000);

  test('entries and batches without a token to a namespace without key writers: 401, body not parsed', async () => {
    for (const path of ['entries', 'batch']) {
      expectError(
        await s.app.inject({
          method: 'POST',
          url: `/v1/ns/${enc}/${path}`,
          headers: { 'content-type': 'application/json' },
          payload: unparsable,
        }),
        401,
        'UNAUTHORIZED',
      );
      expectError(
        await s.app.inject({
          method: 'POST',
          url: `/v1/ns/${enc}/${path}`,
          headers: { authorization: 'Bearer nope', 'content-type': 'application/json' },
          payload: unparsable,
        }),
        401,
        'UNAUTHORIZED',
      );
      expectError(
        await s.app.inject({
          method: 'POST',
          url: `/v1/ns/no:such/${path}`,
          headers: { 'content-type': 'application/json' },
          payload: unparsable,
        }),
        404,
        'NAMESPACE_NOT_FOUND',
      );
    }
  });

  test('admin routes: 401 before the body', async () => {
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: `/v1/ns/${enc}`,
        headers: { 'content-type': 'application/json' },
        payload: unparsable,
      }),
      401,
      'UNAUTHORIZED',
    );
    expectError(
      await s.app.inject({
        method: 'PUT',
        url: `/v1/ns/${enc}/cadence`,
        headers: { 'content-type': 'application/json' },
        payload: unparsable,
      }),
      401,
      'UNAUTHORIZED',
    );
  });
});

describe('bodies in flight are bounded', () => {
  test('beyond maxInFlightBodyBytes a request is 503 SERVER_BUSY with Retry-After before its body is read, and nothing is stored', async () => {
    const small = await startTestServer({ limits: { maxInFlightBodyBytes: 8 } });
    try {
      await small.app.inject({
        method: 'PUT',
        url: `/v1/ns/${enc}`,
        headers: { authorization: `Bearer ${small.token}` },
        payload: {},
      });
      const r = await small.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { authorization: `Bearer ${small.token}`, 'content-type': 'application/json' },
        payload: '{"a":"0123456789"}',
      });
      expectError(r, 503, 'SERVER_BUSY');
      assert.equal(r.headers['retry-after'], '1');
      assert.equal(small.engine.sequencedSize(NS), 0);
      // A body within the bound goes through, and the count was released.
      const ok = await small.app.inject({
        method: 'POST',
        url: `/v1/ns/${enc}/entries`,
        headers: { authorization: `Bearer ${small.token}`, 'content-type': 'application/json' },
        payload: '{"a":1}',
      });
      assert.equal(ok.statusCode, 201, ok.body);
    } finally {
      await small.close();
    }
  });
});

describe('a body only signatures inside it could authorize is read up to UNAUTHENTICATED_BODY_LIMIT_BYTES', () => {
  const SIGNED = 'pub:signed';
  const batchOf = (bytes: number) =>
    '{"entries":[' +
    Array(Math.floor(bytes / 3))
      .fill('{}')
      .join(',') +
    ']}';

  before(async () => {
    const spec = {
      writers: [
        { id: 'alice', ed25519: publicKeyBase64(crypto.randomBytes(32)) },
        { id: 'bot', token_sha256: tokenSha256('bot-token'), scopes: ['write'] },
      ],
    };
    const r = await s.app.inject({ method: 'PUT', url: `/v1/ns/${SIGNED}`, headers: auth(), payload: spec });
    assert.equal(r.statusCode, 201, r.body);
  });

  test('without a token: a declared or chunked body over UNAUTHENTICATED_BODY_LIMIT_BYTES is 413 before it is parsed; a small unsigned one is parsed and refused 401', async () => {
    const big = batchOf(UNAUTHENTICATED_BODY_LIMIT_BYTES + 10);
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${SIGNED}/batch`,
        headers: { 'content-type': 'application/json' },
        payload: big,
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const chunked = Readable.from([
      Buffer.from(big.slice(0, big.length >> 1)),
      Buffer.from(big.slice(big.length >> 1)),
    ]);
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${SIGNED}/batch`,
        headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
        payload: chunked,
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${SIGNED}/batch`,
        headers: { 'content-type': 'application/json' },
        payload: batchOf(300),
      }),
      401,
      'UNAUTHORIZED',
    );
    assert.equal(s.engine.sequencedSize(SIGNED), 0);
  });

  test('with a writer token the route limit applies: the same body is read and judged', async () => {
    const big =
      '{"entries":[' +
      Array(Math.floor((UNAUTHENTICATED_BODY_LIMIT_BYTES + 10) / 8))
        .fill('{"a":1}')
        .join(',') +
      ']}';
    const r = await s.app.inject({
      method: 'POST',
      url: `/v1/ns/${SIGNED}/batch`,
      headers: { authorization: 'Bearer bot-token', 'content-type': 'application/json' },
      payload: big,
    });
    // Parsed (no 413): refused for the batch size, which only a parsed body can tell.
    expectError(r, 413, 'PAYLOAD_TOO_LARGE');
    assert.match(JSON.parse(r.body).message, /entries; the limit is/);
  });
});

describe('nothing sent without a credential is parsed beyond the single-entry limit', () => {
  const KEYED = 'pub:keyed-bound';
  // The costliest shape per byte for the parser: one object with as many members as fit.
  const manyKeys = (bytes: number) => {
    let text = '{"entries":[{"k0":0';
    for (let i = 1; text.length + `,"k${i}":0`.length + 3 <= bytes; i++) text += `,"k${i}":0`;
    return text + '}]}';
  };

  before(async () => {
    const r = await s.app.inject({
      method: 'PUT',
      url: `/v1/ns/${KEYED}`,
      headers: auth(),
      payload: { writers: [{ id: 'alice', ed25519: publicKeyBase64(crypto.randomBytes(32)) }] },
    });
    assert.equal(r.statusCode, 201, r.body);
  });

  test('a batch without a token is read up to ENTRY_BODY_LIMIT_BYTES (256 KiB): at 1 MiB the worst shapes held the event loop 80–230 ms', async () => {
    assert.equal(UNAUTHENTICATED_BODY_LIMIT_BYTES, ENTRY_BODY_LIMIT_BYTES);
    const atLimit = manyKeys(UNAUTHENTICATED_BODY_LIMIT_BYTES);
    assert.ok(
      atLimit.length <= UNAUTHENTICATED_BODY_LIMIT_BYTES && atLimit.length > UNAUTHENTICATED_BODY_LIMIT_BYTES - 16,
    );
    // Parsed, then refused for want of a signature.
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${KEYED}/batch`,
        headers: { 'content-type': 'application/json' },
        payload: atLimit,
      }),
      401,
      'UNAUTHORIZED',
    );
    expectError(
      await s.app.inject({
        method: 'POST',
        url: `/v1/ns/${KEYED}/batch`,
        headers: { 'content-type': 'application/json' },
        payload: atLimit + ' '.repeat(UNAUTHENTICATED_BODY_LIMIT_BYTES + 1 - atLimit.length),
      }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    assert.equal(s.engine.sequencedSize(KEYED), 0);
  });
});
