import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { signRequest, utf8Encode, verifyReceipt } from '@vaultmesh/core';
import { MAX_INBOX_BATCH, peerInboxPath, type InboxPage } from '../../../src/messaging/messaging-wire.js';
import { tokenSha256 } from '../../../src/namespaces/writer-authorization.js';
import { ALPHA, BETA, GAMMA, SourceLog, TargetNode, inboxApp, tempRoot, type Sent } from './inbox-fixture.js';
import type { TestPeer } from '../../federation/federation-fixture.js';

// The inbox routes on a bare Fastify app with the server's real scopes, body parsing and error
// handling: delivery over the public and the peer route, and the application inbox as a page, a
// long-poll and server-sent events.

const OPEN = 'app:open';
const PRIVATE = 'app:private';
const READER = 'open-reader-token-abcdefghijklmnop';
const PRIVATE_READER = 'private-reader-token-abcdefghijkl';
const dirs = tempRoot();
let node: TargetNode;
let app: FastifyInstance;
let mounted: Awaited<ReturnType<typeof inboxApp>>;
let toOpen: SourceLog;
let toPrivate: SourceLog;

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(OPEN, {
    messaging: { accept_from: [`${BETA.id}/*`] },
    writers: [{ id: 'reader', token_sha256: tokenSha256(READER), scopes: ['read'] }],
  });
  await node.createNamespace(PRIVATE, {
    visibility: 'private',
    messaging: { accept_from: [`${BETA.id}/*`] },
    writers: [{ id: 'reader', token_sha256: tokenSha256(PRIVATE_READER), scopes: ['read'] }],
  });
  await node.openInbox();
  mounted = await inboxApp(node);
  app = mounted.app;
  toOpen = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: OPEN });
  toPrivate = await SourceLog.open(BETA, 'app:secret', dirs.make(), { node: ALPHA.id, namespace: PRIVATE });
});

after(async () => {
  await mounted.close();
  await node.close();
  await toOpen.close();
  await toPrivate.close();
  dirs.cleanup();
});

const post = (ns: string, body: unknown) =>
  app.inject({ method: 'POST', url: `/v1/ns/${ns}/inbox`, payload: body as object });

function peerPost(ns: string, body: unknown, by: TestPeer | null = BETA) {
  const path = peerInboxPath(ns);
  const bytes = utf8Encode(JSON.stringify(body));
  const headers = by
    ? signRequest({
        method: 'POST',
        targetUri: new URL(path, ALPHA.entry.endpoint).href,
        keyid: by.keyid,
        seed: by.authSeed,
        body: bytes,
      })
    : {};
  return app.inject({
    method: 'POST',
    url: path,
    headers: { ...headers, 'content-type': 'application/json' },
    payload: Buffer.from(bytes),
  });
}

const read = (ns: string, query = '', token?: string) =>
  app.inject({
    method: 'GET',
    url: `/v1/ns/${ns}/inbox${query}`,
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });

function expectError(r: LightMyRequestResponse, status: number, code: string): void {
  assert.equal(r.statusCode, status, r.body);
  assert.equal((r.json() as { code: string }).code, code, r.body);
}

async function next(log: SourceLog, n = 1, extra: object = {}): Promise<Sent[]> {
  return log.send(Array.from({ length: n }, () => ({ seq: ++seqOf(log).n, ...extra })));
}
const seqs = new Map<SourceLog, { n: number }>();
function seqOf(log: SourceLog): { n: number } {
  let s = seqs.get(log);
  if (!s) seqs.set(log, (s = { n: 0 }));
  return s;
}

describe('POST /v1/ns/{ns}/inbox (public)', () => {
  test('one message: 200 accepted with its receipt, 200 duplicate, 202 held', async () => {
    const [m1, m2, m3] = await next(toOpen, 3);
    const held = await post(OPEN, m3!.message);
    assert.equal(held.statusCode, 202, held.body);
    assert.deepEqual(held.json(), { message_id: m3!.id, status: 'held' });
    await post(OPEN, m1!.message);
    const r = await post(OPEN, m2!.message);
    assert.equal(r.statusCode, 200, r.body);
    const body = r.json() as { status: string; delivery: { receipt: unknown; index: number } };
    assert.equal(body.status, 'accepted');
    const vkey = node.engine.getNamespace(OPEN)!.logVkey;
    assert.equal(verifyReceipt(body.delivery.receipt, { logVkeys: [vkey] }).ok, true);
    const dup = await post(OPEN, m3!.message);
    assert.equal(dup.statusCode, 200);
    assert.equal((dup.json() as { status: string }).status, 'duplicate');
  });

  test('a batch: 200 with one result per message, refusals among them', async () => {
    const [a, b] = await next(toOpen, 2);
    const forged = structuredClone(b!.message);
    forged.payload.parameters = { forged: true };
    const r = await post(OPEN, { messages: [a!.message, forged, b!.message, { nonsense: 1 }] });
    assert.equal(r.statusCode, 200, r.body);
    const { results } = r.json() as { results: Array<{ status: string; error?: { code: string } }> };
    assert.deepEqual(
      results.map((x) => x.error?.code ?? x.status),
      ['accepted', 'PROOF_MISMATCH', 'accepted', 'MESSAGE_MALFORMED'],
    );
  });

  test('refusals of one message answer as errors with their status', async () => {
    const [m] = await next(toOpen);
    const forged = structuredClone(m!.message);
    forged.payload.parameters = { forged: true };
    expectError(await post(OPEN, forged), 422, 'PROOF_MISMATCH');
    expectError(
      await post(OPEN, { ...m!.message, payload: { ...m!.message.payload, proof: undefined } }),
      400,
      'MESSAGE_MALFORMED',
    );
    const stranger = await SourceLog.open(GAMMA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: OPEN });
    try {
      const [s] = await stranger.send([{ seq: 1 }]);
      expectError(await post(OPEN, s!.message), 403, 'MESSAGE_NOT_ACCEPTED');
    } finally {
      await stranger.close();
    }
    expectError(await post('app:nowhere', m!.message), 404, 'NAMESPACE_NOT_FOUND');
    expectError(await post(OPEN, { messages: [] }), 400, 'MESSAGE_MALFORMED');
    expectError(await post(OPEN, { messages: [m!.message], extra: 1 }), 400, 'MESSAGE_MALFORMED');
    expectError(
      await post(OPEN, { messages: Array.from({ length: MAX_INBOX_BATCH + 1 }, () => ({})) }),
      413,
      'PAYLOAD_TOO_LARGE',
    );
    const bad = await app.inject({
      method: 'POST',
      url: `/v1/ns/${OPEN}/inbox`,
      headers: { 'content-type': 'application/json' },
      payload: '{"format": ',
    });
    expectError(bad, 400, 'INVALID_JSON');
    // The message was never applied by any of these.
    assert.equal((await post(OPEN, m!.message)).statusCode, 200);
  });

  test('a private namespace is refused on the public route, whatever the proof', async () => {
    const [m] = await next(toPrivate);
    const size = node.engine.sequencedSize(PRIVATE);
    expectError(await post(PRIVATE, m!.message), 403, 'FORBIDDEN');
    expectError(await post(PRIVATE, { messages: [m!.message] }), 403, 'FORBIDDEN');
    assert.equal(node.engine.sequencedSize(PRIVATE), size);
    // The same message over the peer route is taken.
    assert.equal((await peerPost(PRIVATE, m!.message)).statusCode, 200);
  });
});

describe('POST /v1/federation/peer/ns/{ns}/inbox (peer-signed)', () => {
  test('a registry peer delivers to a private namespace; a batch answers every result', async () => {
    const [m1, m2] = await next(toPrivate, 2);
    const r = await peerPost(PRIVATE, m1!.message);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as { status: string }).status, 'accepted');
    const b = await peerPost(PRIVATE, { messages: [m1!.message, m2!.message] }, GAMMA);
    assert.equal(b.statusCode, 200, b.body);
    assert.deepEqual(
      (b.json() as { results: Array<{ status: string }> }).results.map((x) => x.status),
      ['duplicate', 'accepted'],
    );
  });

  test('an unsigned request is refused before anything is read', async () => {
    const [m] = await next(toPrivate);
    const r = await peerPost(PRIVATE, m!.message, null);
    assert.equal(r.statusCode, 401, r.body);
  });
});

describe('GET /v1/ns/{ns}/inbox', () => {
  test('needs a token of the namespace (any scope) or the admin token, even for a public namespace', async () => {
    expectError(await read(OPEN), 401, 'UNAUTHORIZED');
    expectError(await read(OPEN, '', 'no-such-token-abcdefghijklmnopqr'), 401, 'UNAUTHORIZED');
    expectError(await read(OPEN, '', PRIVATE_READER), 403, 'FORBIDDEN');
    expectError(await read(PRIVATE, '', READER), 403, 'FORBIDDEN');
    expectError(await read(PRIVATE), 401, 'UNAUTHORIZED');
    assert.equal((await read(OPEN, '', READER)).statusCode, 200);
    assert.equal((await read(PRIVATE, '', node.identity.adminToken)).statusCode, 200);
    expectError(await read('app:nowhere', '', node.identity.adminToken), 404, 'NAMESPACE_NOT_FOUND');
  });

  test('pages by cursor, with the delivery proof of each item', async () => {
    const all = (await read(OPEN, '?limit=1000', READER)).json() as InboxPage;
    assert.ok(all.items.length >= 3);
    const cursors = all.items.map((i) => i.cursor);
    assert.deepEqual(
      cursors,
      [...cursors].sort((a, b) => a - b),
    );
    const second = (await read(OPEN, `?after=${cursors[0]}&limit=1`, READER)).json() as InboxPage;
    assert.deepEqual(
      second.items.map((i) => i.cursor),
      [cursors[1]],
    );
    assert.equal(second.next, cursors[1]);
    const item = all.items[0]!;
    assert.equal(item.delivery.entry.message_id, item.message_id);
    assert.equal(
      verifyReceipt(item.delivery.receipt, { logVkeys: [node.engine.getNamespace(OPEN)!.logVkey] }).ok,
      true,
    );
    const end = (await read(OPEN, `?after=${all.next}`, READER)).json() as InboxPage;
    assert.deepEqual(end, { items: [], next: all.next });
    expectError(await read(OPEN, '?limit=0', READER), 400, 'INVALID_ARGUMENT');
    expectError(await read(OPEN, '?wait=31', READER), 400, 'INVALID_ARGUMENT');
    expectError(await read(OPEN, '?after=-1', READER), 400, 'INVALID_ARGUMENT');
  });

  test('long-poll: waits for the next item, or answers empty when the wait ends', async () => {
    const last = ((await read(OPEN, '?limit=1000', READER)).json() as InboxPage).next;
    const empty = await read(OPEN, `?after=${last}&wait=1`, READER);
    assert.deepEqual(empty.json(), { items: [], next: last });
    const waiting = read(OPEN, `?after=${last}&wait=10`, READER);
    const [m] = await next(toOpen);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal((await post(OPEN, m!.message)).statusCode, 200);
    const page = (await waiting).json() as InboxPage;
    assert.deepEqual(
      page.items.map((i) => i.message_id),
      [m!.id],
    );
  });
});
