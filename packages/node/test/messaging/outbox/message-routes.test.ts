import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { installErrorHandling } from '../../../src/http/error-handler.js';
import { useStrictJsonBodies } from '../../../src/http/json-body.js';
import type { RouteContext } from '../../../src/http/route-context.js';
import { messageArea } from '../../../src/http/routes/message-routes.js';
import { installScopes } from '../../../src/http/scopes.js';
import { NodeMetrics } from '../../../src/metrics/node-metrics.js';
import type { MessageStatusView, SentMessage } from '../../../src/messaging/messaging-wire.js';
import { tokenSha256 } from '../../../src/namespaces/writer-authorization.js';
import { NODE, createNamespace, openOutboxNode, sendRequest, tempNodes, type OutboxNode } from './outbox-fixture.js';

/*
 * POST /v1/ns/{src}/messages and GET /v1/ns/{src}/messages/{id} on a bare Fastify app with the
 * server's real scopes, body parsing and error answers, over a real node's outbox.
 */

const BOT = 'dao-bot-token-abcdefghijklmnop';
const OTHER = 'other-bot-token-abcdefghijklm';
const READER = 'reader-token-abcdefghijklmnopq';
const TO_B = sendRequest(`${NODE}/dao:b`);

function app(node: OutboxNode, withOutbox = true): FastifyInstance {
  const a = Fastify();
  useStrictJsonBodies(a);
  installErrorHandling(a);
  const ctx = {
    engine: node.engine,
    nodeName: NODE,
    adminToken: node.identity.adminToken,
    namespaces: node.namespaces,
    metrics: new NodeMetrics(),
    batchBodyLimitBytes: 16 * 1024 * 1024,
    ...(withOutbox ? { outbox: node.outbox } : {}),
  } as unknown as RouteContext;
  installScopes(a, ctx, [messageArea]);
  return a;
}

function expectError(r: LightMyRequestResponse, status: number, code: string, pointer?: string): void {
  assert.equal(r.statusCode, status, r.body);
  const body = r.json<{ code: string; pointer?: string }>();
  assert.equal(body.code, code, r.body);
  if (pointer !== undefined) assert.equal(body.pointer, pointer, r.body);
}

describe('message routes', () => {
  const nodes = tempNodes();
  let node: OutboxNode;
  let http: FastifyInstance;
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const post = (ns: string, payload: unknown, headers: Record<string, string> = bearer(BOT)) =>
    http.inject({ method: 'POST', url: `/v1/ns/${ns}/messages`, headers, payload: payload as object });

  before(async () => {
    node = await openOutboxNode(nodes.make());
    await createNamespace(node, 'dao:a', {
      visibility: 'private',
      writers: [
        { id: 'bot', token_sha256: tokenSha256(BOT), scopes: ['write'] },
        { id: 'reader', token_sha256: tokenSha256(READER), scopes: ['read'] },
      ],
    });
    await createNamespace(node, 'dao:b', {
      writers: [{ id: 'other', token_sha256: tokenSha256(OTHER), scopes: ['write'] }],
    });
    await createNamespace(node, 'dao:keyed', {
      writers: [{ id: 'k', ed25519: 'A'.repeat(43) + '=' }],
    });
    http = app(node);
    await http.ready();
  });
  after(async () => {
    await http.close();
    await node.close();
    nodes.cleanup();
  });

  test('one message: 202 with its id, index, seq and state, and where to follow it', async () => {
    const r = await post('dao:a', TO_B);
    assert.equal(r.statusCode, 202, r.body);
    const sent = r.json<SentMessage>();
    assert.deepEqual(Object.keys(sent).sort(), ['id', 'index', 'seq', 'state']);
    assert.equal(sent.seq, 1);
    assert.equal(sent.state, 'queued');
    assert.equal(r.headers.location, `/v1/ns/dao%3Aa/messages/${sent.id}`);

    const g = await http.inject({ method: 'GET', url: r.headers.location as string, headers: bearer(READER) });
    assert.equal(g.statusCode, 200, g.body);
    const view = g.json<MessageStatusView>();
    assert.equal(view.id, sent.id);
    assert.equal(view.state, 'queued');
    assert.deepEqual(view.source, { node: NODE, namespace: 'dao:a' });
    assert.deepEqual(view.target, { node: NODE, namespace: 'dao:b' });
  });

  test('a batch: 202 with each message, all or none', async () => {
    const r = await post('dao:a', { messages: [TO_B, TO_B] });
    assert.equal(r.statusCode, 202, r.body);
    assert.deepEqual(
      r.json<{ messages: SentMessage[] }>().messages.map((m) => m.seq),
      [2, 3],
    );
    const size = node.engine.sequencedSize('dao:a');
    expectError(
      await post('dao:a', { messages: [TO_B, { ...TO_B, action: 'x' }] }),
      400,
      'MESSAGE_MALFORMED',
      '/messages/1/action',
    );
    expectError(
      await post('dao:a', { messages: [{ ...TO_B, action: 'x' }] }),
      400,
      'MESSAGE_MALFORMED',
      '/messages/0/action',
    );
    expectError(await post('dao:a', { messages: [] }), 400, 'MESSAGE_MALFORMED', '/messages');
    expectError(await post('dao:a', { messages: [TO_B], more: 1 }), 400, 'MESSAGE_MALFORMED', '/messages');
    expectError(await post('dao:a', { messages: Array.from({ length: 1001 }, () => TO_B) }), 413, 'PAYLOAD_TOO_LARGE');
    assert.equal(node.engine.sequencedSize('dao:a'), size);
  });

  test('writers only, with a bearer token', async () => {
    expectError(await post('dao:a', TO_B, {}), 401, 'UNAUTHORIZED');
    expectError(await post('dao:keyed', TO_B, {}), 401, 'UNAUTHORIZED');
    expectError(await post('dao:a', TO_B, bearer(OTHER)), 403, 'FORBIDDEN');
    expectError(await post('dao:a', TO_B, bearer(READER)), 403, 'FORBIDDEN');
    expectError(await post('dao:a', TO_B, bearer('no-such-token-abcdefghijklmn')), 401, 'UNAUTHORIZED');
    expectError(await post('dao:nope', TO_B), 404, 'NAMESPACE_NOT_FOUND');
    expectError(await post('NOPE', TO_B), 400, 'INVALID_NAMESPACE_ID');
    expectError(
      await post('dao:a', { ...TO_B, target: { node: NODE, namespace: 'dao:a' } }),
      400,
      'MESSAGE_MALFORMED',
      '/target',
    );
  });

  test('the status of a private namespace is read with its tokens; ids are checked', async () => {
    const [sent] = await node.outbox.send('dao:a', [TO_B]);
    const url = `/v1/ns/dao:a/messages/${sent!.id}`;
    expectError(await http.inject({ method: 'GET', url }), 401, 'UNAUTHORIZED');
    expectError(await http.inject({ method: 'GET', url, headers: bearer(OTHER) }), 403, 'FORBIDDEN');
    assert.equal((await http.inject({ method: 'GET', url, headers: bearer(BOT) })).statusCode, 200);
    const get = (u: string) => http.inject({ method: 'GET', url: u, headers: bearer(BOT) });
    expectError(await get(`/v1/ns/dao:a/messages/${'0'.repeat(64)}`), 404, 'NOT_FOUND');
    expectError(await get(`/v1/ns/dao:a/messages/${sent!.id.toUpperCase()}`), 400, 'INVALID_ARGUMENT');
    expectError(await get(`/v1/ns/dao:a/messages/xyz`), 400, 'INVALID_ARGUMENT');
    // Another namespace's message is not this one's to show.
    expectError(await http.inject({ method: 'GET', url: `/v1/ns/dao:b/messages/${sent!.id}` }), 404, 'NOT_FOUND');
  });

  test('a node without an outbox answers NOT_FOUND', async () => {
    const bare = app(node, false);
    try {
      await bare.ready();
      expectError(
        await bare.inject({ method: 'POST', url: '/v1/ns/dao:a/messages', headers: bearer(BOT), payload: TO_B }),
        404,
        'NOT_FOUND',
      );
      expectError(
        await bare.inject({ method: 'GET', url: `/v1/ns/dao:b/messages/${'0'.repeat(64)}` }),
        404,
        'NOT_FOUND',
      );
    } finally {
      await bare.close();
    }
  });
});
