import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InboxItem } from '@vaultmesh/node';
import { ApiClient } from '../../src/client/api-client.js';
import { backoffMs, followInbox, isRetryable } from '../../src/commands/message-inbox-follow.js';
import { RemembrancerError } from '@vaultmesh/core';
import { ApiError } from '../../src/client/api-client.js';

// followInbox against a real HTTP server on an ephemeral port that plays the inbox route's
// server-sent events, including what networks do to long streams: drop them mid-way.

interface Seen {
  after: string | null;
  lastEventId: string | undefined;
  accept: string | undefined;
}

const servers: Server[] = [];
after(() =>
  Promise.all(
    servers.map((s) => {
      s.closeAllConnections();
      return new Promise((r) => s.close(r));
    }),
  ),
);

async function serve(
  handler: (n: number, req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ client: ApiClient; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    seen.push({
      after: url.searchParams.get('after'),
      lastEventId: req.headers['last-event-id'] as string | undefined,
      accept: req.headers.accept,
    });
    handler(seen.length, req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { client: new ApiClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 5_000 }), seen };
}

function item(cursor: number): InboxItem {
  return {
    cursor,
    message_id: String(cursor).padStart(64, '0'),
    message: { action: 'notify' },
    delivery: {
      index: cursor + 10,
      entry: {} as InboxItem['delivery']['entry'],
    },
  };
}

function event(cursor: number): string {
  return `id: ${cursor}\nevent: message\ndata: ${JSON.stringify(item(cursor))}\n\n`;
}

function sse(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
}

const fast = { firstMs: 10, maxMs: 40 };

describe('message inbox --follow', () => {
  test(
    'a dropped stream is reopened from the last cursor (after and Last-Event-ID); replays are not printed twice',
    { timeout: 15_000 },
    async () => {
      const stop = new AbortController();
      const { client, seen } = await serve((n, _req, res) => {
        sse(res);
        if (n === 1) {
          res.write('retry: 5000\n: heartbeat\n\n' + event(1) + event(2));
          // The network drops the connection mid-stream.
          setTimeout(() => res.destroy(), 50);
        } else if (n === 2) {
          res.end(event(2) + event(3));
        } else {
          res.write(': still here\n\n');
          setTimeout(() => stop.abort(), 20);
        }
      });
      const printed: number[] = [];
      const retries: string[] = [];
      const pauses: number[] = [];
      await followInbox(client, 'dao:dst', {
        after: 0,
        signal: stop.signal,
        onItem: (i) => printed.push(i.cursor),
        onRetry: (why, ms) => {
          retries.push(why);
          pauses.push(ms);
        },
        backoff: fast,
      });
      assert.deepEqual(printed, [1, 2, 3]);
      // The stream's retry: 5000 starts the backoff, within its cap.
      assert.deepEqual(pauses, [fast.maxMs, fast.maxMs]);
      assert.equal(retries.length, 2);
      assert.deepEqual(
        seen.map((s) => [s.after, s.lastEventId]),
        [
          ['0', undefined],
          ['2', '2'],
          ['3', '3'],
        ],
      );
      assert.ok(seen.every((s) => s.accept === 'text/event-stream'));
    },
  );

  test(
    'a node that is down or overloaded is retried; a refusal (4xx) ends the command with its code',
    { timeout: 15_000 },
    async () => {
      const stop = new AbortController();
      const { client, seen } = await serve((n, _req, res) => {
        if (n === 1) {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'SERVER_BUSY', message: 'busy' }));
        } else if (n === 2) {
          sse(res);
          res.end(event(5));
        } else {
          res.writeHead(401, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ code: 'UNAUTHORIZED', message: 'read token needed' }));
        }
      });
      const printed: number[] = [];
      await assert.rejects(
        followInbox(client, 'dao:dst', {
          after: 4,
          signal: stop.signal,
          onItem: (i) => printed.push(i.cursor),
          backoff: fast,
        }),
        (e: unknown) => e instanceof ApiError && e.code === 'UNAUTHORIZED',
      );
      assert.deepEqual(printed, [5]);
      assert.equal(seen.length, 3);
    },
  );

  test(
    'an answer that is not an event stream, or a malformed item, ends the command',
    { timeout: 15_000 },
    async () => {
      const stop = new AbortController();
      const json = await serve((_n, _req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"items": [], "next": 0}');
      });
      await assert.rejects(
        followInbox(json.client, 'dao:dst', { after: 0, signal: stop.signal, onItem: () => {}, backoff: fast }),
        (e: unknown) => e instanceof RemembrancerError && e.code === 'PEER_ANSWER_MALFORMED',
      );
      const bad = await serve((_n, _req, res) => {
        sse(res);
        res.end('data: {"cursor": "x"}\n\n');
      });
      await assert.rejects(
        followInbox(bad.client, 'dao:dst', { after: 0, signal: stop.signal, onItem: () => {}, backoff: fast }),
        (e: unknown) => e instanceof RemembrancerError && e.code === 'PEER_ANSWER_MALFORMED',
      );
    },
  );

  test('an abort while connected ends the follow at once, without error', { timeout: 15_000 }, async () => {
    const stop = new AbortController();
    const { client } = await serve((_n, _req, res) => {
      sse(res);
      res.write(event(1));
    });
    await followInbox(client, 'dao:dst', {
      after: 0,
      signal: stop.signal,
      onItem: () => stop.abort(),
      backoff: fast,
    });
  });

  test('backoff doubles from the first pause up to the cap; what is retried', () => {
    const b = { firstMs: 250, maxMs: 10_000 };
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 7, 100].map((n) => backoffMs(b, n)),
      [250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000],
    );
    assert.ok(isRetryable(new TypeError('terminated')));
    assert.ok(isRetryable(new RemembrancerError('INTERNAL', 'cannot reach')));
    assert.ok(isRetryable(new ApiError('SERVER_BUSY', 'busy', 503)));
    assert.ok(isRetryable(new ApiError('RATE_LIMITED', 'slow down', 429)));
    assert.ok(!isRetryable(new ApiError('NAMESPACE_NOT_FOUND', 'no', 404)));
    assert.ok(!isRetryable(new RemembrancerError('PAYLOAD_TOO_LARGE', 'line')));
  });
});
