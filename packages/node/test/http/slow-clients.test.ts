import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer } from './test-server.js';

// Issue 8, item 4: request, header and keep-alive timeouts and a connection cap, on real sockets.
// The bounds are short here so the test is quick; what is checked is that the server cuts the
// client off (and how it answers), never how fast: every wait below is a bounded upper limit.

const LIMITS = {
  requestTimeoutMs: 1500,
  headersTimeoutMs: 1000,
  keepAliveTimeoutMs: 500,
  idleTimeoutMs: 5000,
  maxConnections: 4,
};
const NS = 'pub:open';

let s: TestServer;
let port: number;

before(async () => {
  s = await startTestServer({ limits: LIMITS });
  await s.app.listen({ host: '127.0.0.1', port: 0 });
  port = (s.app.server.address() as AddressInfo).port;
  const r = await s.app.inject({
    method: 'PUT',
    url: `/v1/ns/${NS}`,
    headers: { authorization: `Bearer ${s.token}` },
    payload: {},
  });
  assert.equal(r.statusCode, 201, r.body);
});
after(async () => s.close());

interface Conn {
  socket: Socket;
  /** Everything the server sent, once it closed the connection (or the bound ran out). */
  closed: Promise<{ data: string; closedByServer: boolean }>;
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      let data = '';
      socket.setEncoding('utf8');
      socket.on('data', (d: string) => (data += d));
      const closed = new Promise<{ data: string; closedByServer: boolean }>((res) => {
        const bound = setTimeout(() => {
          socket.destroy();
          res({ data, closedByServer: false });
        }, 15_000);
        socket.on('close', () => {
          clearTimeout(bound);
          res({ data, closedByServer: true });
        });
      });
      resolve({ socket, closed });
    });
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

function statusAndBody(raw: string): { status: number; body: { code: string; message: string } } {
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1]);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
  return { status, body: JSON.parse(body) as { code: string; message: string } };
}

describe('slow clients are cut off', () => {
  test('slow headers: a request whose headers never finish is answered 408 REQUEST_TIMEOUT and closed', async () => {
    const c = await open();
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n`);
    const drip = setInterval(() => c.socket.writable && c.socket.write('X-Slow: 1\r\n'), 200);
    const { data, closedByServer } = await c.closed;
    clearInterval(drip);
    assert.ok(closedByServer, 'the server closed the connection');
    const { status, body } = statusAndBody(data);
    assert.equal(status, 408);
    assert.equal(body.code, 'REQUEST_TIMEOUT');
  });

  test('slow body: one byte at a time is answered 408 REQUEST_TIMEOUT and closed; nothing is stored', async () => {
    const before = s.engine.sequencedSize(NS);
    const c = await open();
    const payload = '{"a":"' + 'x'.repeat(200) + '"}';
    c.socket.write(
      `POST /v1/ns/${NS}/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: ${payload.length}\r\n\r\n`,
    );
    let i = 0;
    const drip = setInterval(() => c.socket.writable && i < payload.length && c.socket.write(payload[i++]!), 200);
    const { data, closedByServer } = await c.closed;
    clearInterval(drip);
    assert.ok(closedByServer, 'the server closed the connection');
    assert.ok(i < payload.length, 'cut off before the body was complete');
    const { status, body } = statusAndBody(data);
    assert.equal(status, 408);
    assert.equal(body.code, 'REQUEST_TIMEOUT');
    assert.equal(s.engine.sequencedSize(NS), before);
  });

  test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async () => {
    const c = await open();
    c.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const { data, closedByServer } = await c.closed;
    assert.ok(closedByServer, 'the server closed the idle connection');
    assert.match(data, /^HTTP\/1\.1 200/);
  });
});

describe('malformed requests get our error shape', () => {
  test('headers over maxHeaderBytes: 431 HEADERS_TOO_LARGE', async () => {
    const c = await open();
    c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    const { status, body } = statusAndBody((await c.closed).data);
    assert.equal(status, 431);
    assert.equal(body.code, 'HEADERS_TOO_LARGE');
  });

  test('two different Content-Length headers: 400 BAD_REQUEST, nothing stored', async () => {
    const before = s.engine.sequencedSize(NS);
    const c = await open();
    c.socket.write(
      `POST /v1/ns/${NS}/entries HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.token}\r\nContent-Type: application/json\r\nContent-Length: 7\r\nContent-Length: 9\r\n\r\n{"a":1}`,
    );
    const { status, body } = statusAndBody((await c.closed).data);
    assert.equal(status, 400);
    assert.equal(body.code, 'BAD_REQUEST');
    assert.equal(s.engine.sequencedSize(NS), before);
  });

  test('a request line that is not HTTP: 400 BAD_REQUEST', async () => {
    const c = await open();
    c.socket.write('HELLO\r\n\r\n');
    const { status, body } = statusAndBody((await c.closed).data);
    assert.equal(status, 400);
    assert.equal(body.code, 'BAD_REQUEST');
  });
});

describe('connections are capped', () => {
  test('beyond maxConnections a new connection is closed at once; the ones held still work', async () => {
    const held = await Promise.all(Array.from({ length: LIMITS.maxConnections }, () => open()));
    try {
      const extra = await open();
      extra.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      const { data, closedByServer } = await extra.closed;
      assert.ok(closedByServer);
      assert.equal(data, '', 'no answer on a connection over the cap');
      held[0]!.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      assert.match((await held[0]!.closed).data, /^HTTP\/1\.1 200/);
    } finally {
      for (const c of held) c.socket.destroy();
    }
  });
});

describe('closing', () => {
  test('a request that arrives while the server closes is 503 SHUTTING_DOWN in our error shape, with Connection: close', async () => {
    const closing = await startTestServer();
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    // A request in progress keeps its connection open; the next one on it arrives while the server closes.
    let entered!: () => void;
    const inHandler = new Promise<void>((r) => (entered = r));
    // Declared in the public scope as every route must be (scopes.ts).
    closing.app.get('/test/held', { config: { scope: 'public' } }, async () => {
      entered();
      await held;
      return { ok: true };
    });
    let markClosing!: () => void;
    const isClosing = new Promise<void>((r) => (markClosing = r));
    closing.app.addHook('preClose', async () => markClosing());
    let refused!: () => void;
    const secondAnswered = new Promise<void>((r) => (refused = r));
    closing.app.addHook('onSend', async (request) => {
      if (request.url === '/healthz') refused();
    });
    await closing.app.listen({ host: '127.0.0.1', port: 0 });
    const p = (closing.app.server.address() as AddressInfo).port;
    const socket = connect({ host: '127.0.0.1', port: p });
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (data += d));
    const ended = new Promise<void>((res) => socket.on('close', () => res()));
    socket.on('error', () => undefined);
    const bound = setTimeout(() => socket.destroy(), 10_000);
    try {
      await new Promise<void>((res) => socket.once('connect', () => res()));
      socket.write('GET /test/held HTTP/1.1\r\nHost: x\r\n\r\n');
      await inHandler;
      const closed = closing.close();
      // The server's own preClose hook ran before this one.
      await isClosing;
      socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await secondAnswered;
      release();
      await ended;
      await closed;
      const second = data.slice(data.indexOf('HTTP/1.1', 1));
      assert.match(data, /^HTTP\/1\.1 200/);
      assert.match(second, /^HTTP\/1\.1 503/);
      assert.match(second, /connection: close/i);
      assert.equal(
        (JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4)) as { code: string }).code,
        'SHUTTING_DOWN',
      );
    } finally {
      clearTimeout(bound);
      socket.destroy();
    }
  });
});
