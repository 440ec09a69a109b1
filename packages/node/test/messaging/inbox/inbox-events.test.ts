import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type IncomingMessage } from 'node:http';
import type { InboxItem } from '../../../src/messaging/messaging-wire.js';
import { tokenSha256 } from '../../../src/namespaces/writer-authorization.js';
import { ALPHA, BETA, SourceLog, TargetNode, inboxApp, tempRoot } from './inbox-fixture.js';

// The application inbox as server-sent events over a real socket: the backlog after the cursor,
// then items as they are delivered; Last-Event-ID resumes; a closing server ends every stream and
// long-poll at once instead of waiting for them.

const NS = 'app:events';
const TOKEN = 'events-reader-token-abcdefghijklmn';
const dirs = tempRoot();
let node: TargetNode;
let src: SourceLog;
let seq = 0;

before(async () => {
  node = await TargetNode.open(dirs.make());
  await node.createNamespace(NS, {
    messaging: { accept_from: [`${BETA.id}/app:src`] },
    writers: [{ id: 'app', token_sha256: tokenSha256(TOKEN), scopes: ['read'] }],
  });
  await node.openInbox();
  src = await SourceLog.open(BETA, 'app:src', dirs.make(), { node: ALPHA.id, namespace: NS });
});

after(async () => {
  await node.close();
  await src.close();
  dirs.cleanup();
});

async function deliver(n: number): Promise<string[]> {
  const sent = await src.send(Array.from({ length: n }, () => ({ seq: ++seq })));
  const results = await node.inbox.receive(
    NS,
    sent.map((s) => s.message),
    { kind: 'local' },
  );
  assert.ok(results.every((r) => r.status === 'accepted'));
  return sent.map((s) => s.id);
}

/** Rejects after ms: every wait of these tests is bounded. */
function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]);
}

interface Event {
  id?: string;
  event?: string;
  data?: string;
}

/**
 * A GET on a connection of its own (no pooling: a client's spare keep-alive sockets would be the
 * server's to wait for at close, which is not what these tests look at).
 */
function get(url: string, headers: Record<string, string>): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, resolve);
    req.once('error', reject);
    req.end();
  });
}

async function text(res: IncomingMessage): Promise<string> {
  let out = '';
  for await (const chunk of res) out += String(chunk);
  return out;
}

/** A server-sent event reader: next() is the next event (comments and retry skipped), or undefined at the end. */
function events(res: IncomingMessage): { next(): Promise<Event | undefined>; cancel(): void } {
  const chunks = res[Symbol.asyncIterator]();
  let buffer = '';
  return {
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const ev: Event = {};
          for (const line of block.split('\n')) {
            if (line.startsWith(':') || line.startsWith('retry:')) continue;
            const colon = line.indexOf(': ');
            ev[line.slice(0, colon) as keyof Event] = line.slice(colon + 2);
          }
          if (Object.keys(ev).length > 0) return ev;
          continue;
        }
        let step;
        try {
          step = await chunks.next();
        } catch {
          return undefined;
        }
        if (step.done) return undefined;
        buffer += String(step.value);
      }
    },
    cancel: () => res.destroy(),
  };
}

async function listen(): Promise<{ url: string; close(): Promise<void> }> {
  const mounted = await inboxApp(node);
  const address = await mounted.app.listen({ port: 0, host: '127.0.0.1' });
  return { url: `${address}/v1/ns/${NS}/inbox`, close: () => mounted.close() };
}

test('events: the backlog after the cursor, new items as they come, Last-Event-ID resumes', async () => {
  const server = await listen();
  try {
    const first = await deliver(2);
    const res = await get(`${server.url}?after=0`, { accept: 'text/event-stream', authorization: `Bearer ${TOKEN}` });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] ?? '', /^text\/event-stream/);
    const stream = events(res);
    const seen: Event[] = [];
    seen.push((await within(5_000, 'backlog', stream.next()))!);
    seen.push((await within(5_000, 'backlog', stream.next()))!);
    const [third] = await deliver(1);
    seen.push((await within(5_000, 'a new item', stream.next()))!);
    assert.deepEqual(
      seen.map((e) => e.event),
      ['message', 'message', 'message'],
    );
    const items = seen.map((e) => JSON.parse(e.data!) as InboxItem);
    assert.deepEqual(
      items.map((i) => i.message_id),
      [...first, third],
    );
    assert.deepEqual(
      seen.map((e) => Number(e.id)),
      items.map((i) => i.cursor),
    );
    stream.cancel();

    const resumed = await get(server.url, {
      accept: 'text/event-stream',
      authorization: `Bearer ${TOKEN}`,
      'last-event-id': seen[0]!.id!,
    });
    const again = events(resumed);
    const a = (await within(5_000, 'resume', again.next()))!;
    const b = (await within(5_000, 'resume', again.next()))!;
    assert.deepEqual([a.id, b.id], [seen[1]!.id, seen[2]!.id]);
    again.cancel();

    const refused = await get(server.url, { accept: 'text/event-stream' });
    assert.equal(refused.statusCode, 401);
    await text(refused);
  } finally {
    await within(10_000, 'server close', server.close());
  }
});

test('a closing server ends open event streams and long-polls instead of waiting for them', async () => {
  const server = await listen();
  const last = JSON.parse(await text(await get(server.url, { authorization: `Bearer ${TOKEN}` }))) as { next: number };
  const stream = await get(`${server.url}?after=${last.next}`, {
    accept: 'text/event-stream',
    authorization: `Bearer ${TOKEN}`,
  });
  const poll = get(`${server.url}?after=${last.next}&wait=30`, { authorization: `Bearer ${TOKEN}` });
  await new Promise((r) => setTimeout(r, 100));
  const started = Date.now();
  await within(5_000, 'server close with a stream and a long-poll open', server.close());
  assert.ok(Date.now() - started < 5_000);
  const ended = await within(5_000, 'stream end', events(stream).next());
  assert.equal(ended, undefined, 'the stream ended');
  const polled = await within(5_000, 'long-poll answer', poll);
  assert.equal(polled.statusCode, 200);
  assert.deepEqual(JSON.parse(await text(polled)), { items: [], next: last.next });
});
