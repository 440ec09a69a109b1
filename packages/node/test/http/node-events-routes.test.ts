import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LiveStatus } from '../../src/http/live-status.js';
import { startTestServer, type TestServer } from './test-server.js';

/* GET /v1/node/events on a real node's server: the summary once as JSON, and as server-sent events on a socket. */

/** Reads the stream until `events` status events arrived (bounded by the test's own deadline). */
async function readEvents(body: ReadableStream<Uint8Array>, events: number): Promise<LiveStatus[]> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const found: LiveStatus[] = [];
  const deadline = setTimeout(() => void reader.cancel(), 10_000);
  try {
    while (found.length < events) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
      let end: number;
      while ((end = text.indexOf('\n\n')) >= 0) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        if (block.startsWith('event: status\ndata: ')) found.push(JSON.parse(block.slice(20)) as LiveStatus);
      }
    }
  } finally {
    clearTimeout(deadline);
    await reader.cancel().catch(() => undefined);
  }
  return found;
}

describe('GET /v1/node/events', () => {
  let server: TestServer;
  let url: string;
  const admin = () => ({ authorization: `Bearer ${server.token}`, 'content-type': 'application/json' });

  before(async () => {
    server = await startTestServer();
    for (const [ns, spec] of [
      ['dao:open', {}],
      ['dao:hidden', { visibility: 'private' }],
    ] as const) {
      const r = await server.app.inject({ method: 'PUT', url: `/v1/ns/${ns}`, headers: admin(), payload: spec });
      assert.equal(r.statusCode, 201, r.body);
    }
    const r = await server.app.inject({
      method: 'POST',
      url: '/v1/ns/dao:open/batch',
      headers: admin(),
      payload: { entries: [{ n: 1 }, { n: 2 }] },
    });
    assert.equal(r.statusCode, 201, r.body);
    await server.engine.publishCheckpoint('dao:open');
    url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  });
  after(() => server.close());

  test('?once=1: public namespaces with size and checkpoint age, nothing of a private one', async () => {
    const r = await server.app.inject({ method: 'GET', url: '/v1/node/events?once=1' });
    assert.equal(r.statusCode, 200, r.body);
    const s = r.json<LiveStatus>();
    assert.equal(s.node, server.identity.config.name);
    const open = s.namespaces.find((n) => n.id === 'dao:open');
    assert.deepEqual(
      { ...open, checkpoint_age_ms: 0 },
      { id: 'dao:open', size: 2, checkpoint_size: 2, checkpoint_age_ms: 0 },
    );
    assert.ok(open!.checkpoint_age_ms! >= 0);
    assert.ok(!r.body.includes('dao:hidden'), 'the private namespace is not named');
    assert.equal(s.namespaces_total, s.namespaces.length);
    assert.deepEqual([s.peers, s.anchoring, s.series_t], [[], [], null], 'no federation, anchoring or series here');
  });

  test('a stream of status events, one a second, until the reader goes', async () => {
    const controller = new AbortController();
    const res = await fetch(`${url}/v1/node/events`, { signal: controller.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    assert.equal(res.headers.get('access-control-allow-origin'), '*', 'a page of another node may follow it');
    const events = await readEvents(res.body!, 2);
    controller.abort();
    assert.equal(events.length, 2);
    assert.ok(events[1]!.t >= events[0]!.t);
    assert.equal(events[0]!.namespaces.find((n) => n.id === 'dao:open')?.size, 2);
  });

  test('closing the server ends the streams still open', { timeout: 10_000 }, async () => {
    const res = await fetch(`${url}/v1/node/events`);
    const reader = res.body!.getReader();
    await reader.read(); // the stream is open
    const closing = server.app.close();
    // Drains to the end: the server ended it (a stream left open would hold close() and this read).
    for (;;) if ((await reader.read()).done) break;
    await closing;
  });
});
