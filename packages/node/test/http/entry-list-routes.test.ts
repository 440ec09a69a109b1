import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { base64Decode, base64Encode, canonicalBytes, leafHash, toHex } from '@vaultmesh/core';
import { tokenSha256 } from '../../src/namespaces/index.js';
import { startTestServer, type TestServer } from './test-server.js';

// Recent entries a page at a time, and search by leaf hash (issue 13: the explorer's namespace page).

const NS = 'dao:list';
const PRIVATE = 'fin:hidden';
const READER = 'reader-token-of-fin-hidden-0123456789';
const N = 45;
let s: TestServer;
const admin = () => ({ authorization: `Bearer ${s.token}` });
const entryOf = (i: number) => ({ kind: 'memory', seq: i, pad: 'x'.repeat(i % 5) });

interface Page {
  size: number;
  entries: { index: number; leaf_hash: string; entry: unknown }[];
  next?: number;
}

function expectError(r: { statusCode: number; json(): unknown }, status: number, code: string): void {
  assert.equal(r.statusCode, status, JSON.stringify(r.json()));
  const body = r.json() as { code: string; message: string };
  assert.equal(body.code, code);
  assert.ok(body.message.length > 0);
}

before(async () => {
  s = await startTestServer();
  for (const [id, spec] of [
    [NS, {}],
    [PRIVATE, { visibility: 'private', writers: [{ id: 'r', token_sha256: tokenSha256(READER), scopes: ['read'] }] }],
  ] as const) {
    const r = await s.app.inject({ method: 'PUT', url: `/v1/ns/${id}`, headers: admin(), payload: spec });
    assert.equal(r.statusCode, 201, r.body);
  }
  const r = await s.app.inject({
    method: 'POST',
    url: `/v1/ns/${NS}/batch`,
    headers: admin(),
    payload: { entries: Array.from({ length: N }, (_, i) => entryOf(i)) },
  });
  assert.equal(r.statusCode, 201, r.body);
  // A second copy of entry 3: search answers the first index.
  assert.equal(
    (await s.app.inject({ method: 'POST', url: `/v1/ns/${NS}/entries`, headers: admin(), payload: entryOf(3) }))
      .statusCode,
    201,
  );
  await s.engine.append(PRIVATE, [canonicalBytes({ secret: 1 })]);
});
after(async () => s.close());

describe('GET /v1/ns/{ns}/entries', () => {
  test('pages walk the whole log newest first, each entry with its leaf hash, until next is absent', async () => {
    const seen: number[] = [];
    let url = `/v1/ns/${NS}/entries?limit=20`;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 10);
      const r = await s.app.inject({ method: 'GET', url });
      assert.equal(r.statusCode, 200, r.body);
      const page = r.json() as Page;
      assert.equal(page.size, N + 1);
      for (const e of page.entries) {
        seen.push(e.index);
        const expected = e.index === N ? entryOf(3) : entryOf(e.index);
        assert.deepEqual(e.entry, expected);
        assert.equal(e.leaf_hash, base64Encode(leafHash(canonicalBytes(expected))));
      }
      if (page.next === undefined) break;
      assert.equal(page.next, page.entries.at(-1)!.index);
      url = `/v1/ns/${NS}/entries?limit=20&before=${page.next}`;
    }
    assert.deepEqual(
      seen,
      Array.from({ length: N + 1 }, (_, i) => N - i),
    );
  });

  test('defaults: the newest 20, at most 100; the last page has no next', async () => {
    const first = (await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries` })).json() as Page;
    assert.equal(first.entries.length, 20);
    assert.equal(first.entries[0]!.index, N);
    assert.equal(first.next, N + 1 - 20);
    const all = (await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?limit=100` })).json() as Page;
    assert.equal(all.entries.length, N + 1);
    assert.equal(all.next, undefined);
    const tail = (await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?before=2&limit=5` })).json() as Page;
    assert.deepEqual(
      tail.entries.map((e) => e.index),
      [1, 0],
    );
    assert.equal(tail.next, undefined);
    const empty = (await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?before=0` })).json() as Page;
    assert.deepEqual(empty, { size: N + 1, entries: [] });
  });

  test('bad queries are 400 with the parameter codes', async () => {
    for (const q of [
      'limit=0',
      'limit=101',
      'limit=-1',
      'limit=01',
      'limit=x',
      'before=1.0',
      'before=-3',
      'limit=1&limit=2',
    ]) {
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?${q}` }), 400, 'INVALID_ARGUMENT');
    }
    expectError(
      await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?before=${N + 2}` }),
      400,
      'INDEX_OUT_OF_RANGE',
    );
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/no:such/entries' }), 404, 'NAMESPACE_NOT_FOUND');
    expectError(await s.app.inject({ method: 'GET', url: '/v1/ns/NOPE/entries' }), 400, 'INVALID_NAMESPACE_ID');
  });
});

describe('GET /v1/ns/{ns}/leaf/{hash}', () => {
  const hashOf = (i: number) => leafHash(canonicalBytes(entryOf(i)));
  const b64url = (h: Uint8Array) => base64Encode(h).replace(/\+/g, '-').replace(/\//g, '_');

  test('finds an entry by its leaf hash in hex or base64url (padded or not)', async () => {
    for (const i of [0, 17, N - 1]) {
      const h = hashOf(i);
      for (const spelling of [toHex(h), b64url(h).replace(/=$/, ''), b64url(h)]) {
        const r = await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/leaf/${spelling}` });
        assert.equal(r.statusCode, 200, `${spelling}: ${r.body}`);
        assert.deepEqual(r.json(), { index: i, leaf_hash: base64Encode(h) });
      }
    }
    // The leaf hash an append answers is the one search takes.
    const first = (await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/entries?limit=1` })).json() as Page;
    const r = await s.app.inject({
      method: 'GET',
      url: `/v1/ns/${NS}/leaf/${toHex(base64Decode(first.entries[0]!.leaf_hash))}`,
    });
    // Entry N is a copy of entry 3: the first index holding the hash answers.
    assert.deepEqual(r.json(), { index: 3, leaf_hash: first.entries[0]!.leaf_hash });
  });

  test('an unknown hash is 404 NOT_FOUND; a malformed one 400', async () => {
    const h = hashOf(5);
    h[31]! ^= 1;
    expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/leaf/${toHex(h)}` }), 404, 'NOT_FOUND');
    // Another namespace's entries are not searched.
    expectError(
      await s.app.inject({ method: 'GET', url: `/v1/ns/${PRIVATE}/leaf/${toHex(hashOf(5))}`, headers: admin() }),
      404,
      'NOT_FOUND',
    );
    const good = toHex(hashOf(5));
    for (const bad of [
      good.toUpperCase(),
      good.slice(2),
      `${good}00`,
      encodeURIComponent(base64Encode(hashOf(5))), // standard base64 with '/' or '+' is not a spelling
      'A'.repeat(42) + 'B', // base64url whose trailing bits are not zero
      'z'.repeat(64),
    ]) {
      expectError(await s.app.inject({ method: 'GET', url: `/v1/ns/${NS}/leaf/${bad}` }), 400, 'INVALID_ARGUMENT');
    }
  });
});

describe('private namespaces', () => {
  test('listing and search need a read token, and answer no data without one', async () => {
    const hash = toHex(leafHash(canonicalBytes({ secret: 1 })));
    for (const path of ['/entries', '/entries?limit=5', `/leaf/${hash}`]) {
      const url = `/v1/ns/${PRIVATE}${path}`;
      const anon = await s.app.inject({ method: 'GET', url });
      expectError(anon, 401, 'UNAUTHORIZED');
      assert.doesNotMatch(anon.body, /secret/);
      const wrong = await s.app.inject({ method: 'GET', url, headers: { authorization: 'Bearer not-a-token' } });
      assert.ok([401, 403].includes(wrong.statusCode));
      const ok = await s.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${READER}` } });
      assert.equal(ok.statusCode, 200, ok.body);
    }
  });
});
