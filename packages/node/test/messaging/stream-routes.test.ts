import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { installErrorHandling } from '../../src/http/error-handler.js';
import type { RouteContext } from '../../src/http/route-context.js';
import { streamArea } from '../../src/http/routes/stream-routes.js';
import { installScopes } from '../../src/http/scopes.js';
import { NodeMetrics } from '../../src/metrics/node-metrics.js';
import type { Inbox } from '../../src/messaging/inbox/inbox.js';
import { openInboxStorage } from '../../src/messaging/inbox/open-inbox-storage.js';
import type { InboxStreamCounts } from '../../src/messaging/inbox/stream-counts.js';
import { openInboxStreamCounts, openOutboxStreamCounts } from '../../src/messaging/open-stream-counts.js';
import type { OutboxStreamCounts } from '../../src/messaging/outbox/stream-counts.js';
import type { StorageTarget } from '../../src/storage/storage-target.js';
import {
  NODE,
  createNamespace,
  openLocalInbox,
  openOutboxNode,
  sendRequest,
  tempNodes,
  type OutboxNode,
} from './outbox/outbox-fixture.js';

/*
 * GET /v1/messages/streams over a real node's outbox delivering to its own real inbox: every
 * state counted on both sides, the counts kept right as messages settle after a first read, and
 * no stream that has a private namespace of this node at either end.
 */

const to = (ns: string) => `${NODE}/${ns}`;

interface StreamsBody {
  node: string;
  outgoing: Array<Record<string, unknown> & { source: { namespace: string }; target: { namespace: string } }>;
  incoming: Array<Record<string, unknown> & { source: { namespace: string }; target: { namespace: string } }>;
  truncated: boolean;
}

describe('message streams', () => {
  const nodes = tempNodes('remembrancer-streams-');
  let node: OutboxNode;
  let inbox: Inbox;
  let outboxCounts: OutboxStreamCounts;
  let inboxCounts: InboxStreamCounts;
  let http: FastifyInstance;
  let target: StorageTarget;

  const streams = async (): Promise<StreamsBody> => {
    const r = await http.inject({ method: 'GET', url: '/v1/messages/streams' });
    assert.equal(r.statusCode, 200, r.body);
    return r.json<StreamsBody>();
  };
  const deliver = async (...namespaces: string[]) => {
    for (const ns of namespaces) await node.engine.publishCheckpoint(ns);
    await node.outbox.deliverNow();
  };

  before(async () => {
    node = await openOutboxNode(nodes.make());
    target = { kind: 'sqlite', dataDir: node.dir };
    await createNamespace(node, 'dao:a', { messaging: { accept_from: [to('dao:b')] } });
    await createNamespace(node, 'dao:b', { messaging: { accept_from: [to('dao:a'), to('dao:secret')] } });
    await createNamespace(node, 'dao:closed');
    await createNamespace(node, 'dao:secret', { visibility: 'private', messaging: { accept_from: ['*/*'] } });
    inbox = await openLocalInbox(node, await openInboxStorage(target));
    outboxCounts = openOutboxStreamCounts(target, () => node.clock.ms);
    inboxCounts = openInboxStreamCounts(target);
    http = Fastify();
    installErrorHandling(http);
    const ctx = {
      engine: node.engine,
      nodeName: NODE,
      adminToken: node.identity.adminToken,
      namespaces: node.namespaces,
      metrics: new NodeMetrics(),
      messageStreams: { outbox: outboxCounts, inbox: inboxCounts },
    } as unknown as RouteContext;
    installScopes(http, ctx, [streamArea]);
    await http.ready();
  });
  after(async () => {
    await http.close();
    outboxCounts.close();
    inboxCounts.close();
    await inbox.close();
    await node.close();
    nodes.cleanup();
  });

  test('empty before any message', async () => {
    assert.deepEqual(await streams(), { node: NODE, outgoing: [], incoming: [], truncated: false });
  });

  test('each state counted on both sides; private namespaces of this node are left out', async () => {
    await node.outbox.send('dao:a', [sendRequest(to('dao:b')), sendRequest(to('dao:b'))]);
    await node.outbox.send('dao:a', [sendRequest(to('dao:closed'))]);
    await node.outbox.send('dao:a', [sendRequest(to('dao:secret'))]);
    await node.outbox.send('dao:secret', [sendRequest(to('dao:b'))]);
    await deliver('dao:a', 'dao:secret');
    // Queued: no checkpoint covers it yet.
    await node.outbox.send('dao:a', [sendRequest(to('dao:b'))]);

    const body = await streams();
    assert.deepEqual(body.outgoing, [
      {
        source: { node: NODE, namespace: 'dao:a' },
        target: { node: NODE, namespace: 'dao:b' },
        last_seq: 3,
        queued: 1,
        sealed: 0,
        delivered: 2,
        refused: 0,
        expired: 0,
      },
      {
        source: { node: NODE, namespace: 'dao:a' },
        target: { node: NODE, namespace: 'dao:closed' },
        last_seq: 1,
        queued: 0,
        sealed: 0,
        delivered: 0,
        refused: 1,
        expired: 0,
      },
    ]);
    assert.deepEqual(body.incoming, [
      {
        source: { node: NODE, namespace: 'dao:a', origin: to('dao:a') },
        target: { node: NODE, namespace: 'dao:b' },
        last_seq: 2,
        next_seq: 3,
        accepted: 2,
        held: 0,
        refused: 0,
        expired: 0,
      },
    ]);
    // The private namespace's streams exist, both ways: only the route leaves them out.
    const all = (await outboxCounts.counts(node.clock.ms)).map((s) => `${s.namespace}>${s.target.namespace}`);
    assert.deepEqual(all, ['dao:a>dao:b', 'dao:a>dao:closed', 'dao:a>dao:secret', 'dao:secret>dao:b']);
    const received = (await inboxCounts.counts()).map((s) => `${s.sourceOrigin}>${s.namespace}`);
    assert.deepEqual(
      received.sort(),
      [to('dao:a') + '>dao:b', to('dao:a') + '>dao:secret', to('dao:secret') + '>dao:b'].sort(),
    );
    assert.ok(!JSON.stringify(body).includes('dao:secret'), 'no trace of the private namespace');
  });

  test('counts stay right as messages settle after a first read, and expired ones show so', async () => {
    // The queued message of the last test is delivered; one more expires before it travels.
    await node.outbox.send('dao:a', [sendRequest(to('dao:b'), { expires_at: '2026-03-01T01:00:00Z' })]);
    await node.outbox.send('dao:a', [sendRequest(to('dao:b'))]);
    node.clock.ms = Date.parse('2026-03-01T02:00:00Z');
    const before = (await streams()).outgoing[0]!;
    assert.equal(before.queued, 2, 'the first queued one and the one after the expired one');
    assert.equal(before.expired, 1, 'undelivered past its expiry shows expired, as the status view does');
    await deliver('dao:a');
    const out = (await streams()).outgoing[0]!;
    assert.deepEqual(
      [out.last_seq, out.queued, out.sealed, out.delivered, out.refused, out.expired],
      [5, 0, 0, 4, 0, 1],
    );
    const inc = (await streams()).incoming[0]!;
    assert.deepEqual([inc.last_seq, inc.next_seq, inc.accepted, inc.held, inc.expired], [5, 6, 4, 0, 1]);
    // A fresh reader (nothing cached) reads the same from the rows alone.
    const fresh = openOutboxStreamCounts(target);
    try {
      assert.deepEqual(await fresh.counts(node.clock.ms), await outboxCounts.counts(node.clock.ms));
    } finally {
      fresh.close();
    }
  });

  test('a node without messaging answers NOT_FOUND', async () => {
    const bare = Fastify();
    installErrorHandling(bare);
    installScopes(bare, { nodeName: NODE, metrics: new NodeMetrics() } as unknown as RouteContext, [streamArea]);
    const r = await bare.inject({ method: 'GET', url: '/v1/messages/streams' });
    assert.equal(r.statusCode, 404);
    assert.equal(r.json<{ code: string }>().code, 'NOT_FOUND');
    await bare.close();
  });
});
