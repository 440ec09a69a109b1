import type { IncomingHttpHeaders } from 'node:http';
import { Worker } from 'node:worker_threads';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';

/*
 * Probes for tests that attack a real node over real sockets: raw requests timed from the moment
 * the last byte was handed to the kernel, a /healthz poller that records the worst latency, and
 * the node's resident memory as the kernel counts it.
 */

/** Resident set size of a process, bytes (VmRSS of /proc/<pid>/status; Linux only). */
export function vmRssBytes(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for process ${pid}`);
  return Number(m[1]) * 1024;
}

/** Whether a process still exists (signal 0 checks without signalling). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface ProbeRequest {
  method: string;
  /** Request target, sent verbatim. */
  path: string;
  headers?: Record<string, string>;
  /** Sent whole, with its Content-Length. */
  body?: Buffer;
  /** Sent chunked (no Content-Length): `repeat` copies of `chunk`, honouring backpressure. */
  stream?: { chunk: Buffer; repeat: number };
  /** Bound on the whole exchange (default 30 s). */
  timeoutMs?: number;
}

export interface ProbeResult {
  /** Absent when the server closed the connection without answering. */
  status?: number;
  /** With `closed`, `body` may be incomplete. */
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The server closed or reset the connection before a complete answer. */
  closed: boolean;
  error?: string;
  /** ms from the last byte sent (or from the answer, if it came first) to the answer or the close. */
  refusalMs: number;
  /** ms for the whole exchange. */
  totalMs: number;
}

/**
 * One request on a fresh raw connection, closed once the answer is in. The refusal time starts when
 * sending completed (the server may answer earlier, e.g. 413 from Content-Length or 401 before the
 * body: that counts as 0), and ends when the whole answer arrived or the connection closed. A raw
 * socket, not node:http, because a server that answers early and then stops reading makes our
 * writes fail (EPIPE) while its answer is already here: node:http would drop it, we keep reading.
 */
export function probe(baseUrl: string, req: ProbeRequest): Promise<ProbeResult> {
  const url = new URL(baseUrl);
  const start = performance.now();
  // Keep-alive, as ordinary clients send: a server that answers early then reads and discards the
  // rest. With `Connection: close` Node's server closes with the body unread, the kernel resets the
  // connection, and the client may lose an answer that had already arrived (EPIPE/ECONNRESET).
  const headers: Record<string, string> = { host: url.host, ...req.headers };
  if (req.body) headers['content-length'] = String(req.body.length);
  else if (req.stream) headers['transfer-encoding'] = 'chunked';
  // The path goes out byte for byte (no URL normalization): dot segments and odd escapes included.
  const head = `${req.method} ${req.path} HTTP/1.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    // A HEAD answer, a 204 or a 304 has no body whatever its headers say (RFC 9112 §6.3).
    const bodiless = req.method.toUpperCase() === 'HEAD';
    let sentAt: number | undefined;
    let writeError: string | undefined;
    let settled = false;
    const received: Buffer[] = [];
    const finish = (closedEarly: boolean, error?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const end = performance.now();
      socket.destroy();
      const parsed = parseResponse(Buffer.concat(received), true);
      if (parsed.status !== undefined && (bodiless || parsed.status === 204 || parsed.status === 304))
        parsed.complete = true;
      resolve({
        ...(parsed.status !== undefined ? { status: parsed.status } : {}),
        headers: parsed.headers,
        body: parsed.body,
        closed: closedEarly || !parsed.complete,
        ...((error ?? writeError) ? { error: error ?? writeError } : {}),
        refusalMs: Math.max(0, end - (sentAt ?? end)),
        totalMs: end - start,
      });
    };
    const timer = setTimeout(
      () => finish(true, `no answer within ${req.timeoutMs ?? 30_000} ms`),
      req.timeoutMs ?? 30_000,
    );
    socket.on('data', (d: Buffer) => {
      received.push(d);
      const r = parseResponse(Buffer.concat(received));
      if (r.complete || (r.status !== undefined && (bodiless || r.status === 204 || r.status === 304))) finish(false);
    });
    socket.on('end', () => finish(false));
    socket.on('close', () => finish(false));
    // The server may stop reading and reset: later writes fail, but its answer may be here already.
    socket.on('error', (e: NodeJS.ErrnoException) => {
      writeError ??= e.code ?? e.message;
      sentAt ??= performance.now();
    });
    const sent = () => (sentAt ??= performance.now());
    socket.write(head);
    if (req.body) {
      // In pieces, with the event loop free in between: an early answer is read as it arrives,
      // and sending stops there.
      const body = req.body;
      let p = 0;
      const pump = () => {
        while (p < body.length && !settled && !socket.destroyed) {
          const piece = body.subarray(p, p + 64 * 1024);
          p += piece.length;
          if (p >= body.length) return void socket.write(piece, () => sent());
          if (!socket.write(piece)) return void socket.once('drain', () => setImmediate(pump));
        }
      };
      pump();
    } else if (req.stream) {
      const { chunk, repeat } = req.stream;
      const framed = Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]);
      let i = 0;
      const pump = () => {
        while (i < repeat && !settled && !socket.destroyed) {
          i++;
          if (!socket.write(framed)) return void socket.once('drain', () => setImmediate(pump));
        }
        if (!settled && !socket.destroyed) socket.write('0\r\n\r\n', () => sent());
      };
      pump();
    } else {
      sent();
    }
  });
}

/**
 * An HTTP/1.1 answer as far as it arrived: complete once its Content-Length (or last chunk) is in,
 * or, with neither, at the end of the connection (`eof`).
 */
export function parseResponse(
  raw: Buffer,
  eof = false,
): { status?: number; headers: IncomingHttpHeaders; body: Buffer; complete: boolean } {
  const sep = raw.indexOf('\r\n\r\n');
  if (sep < 0) return { headers: {}, body: Buffer.alloc(0), complete: false };
  const lines = raw.subarray(0, sep).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!)?.[1]);
  const headers: IncomingHttpHeaders = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  let body = raw.subarray(sep + 4);
  let complete = false;
  if (headers['transfer-encoding'] === 'chunked') {
    const parts: Buffer[] = [];
    let p = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', p);
      if (eol < 0) break;
      const n = parseInt(body.subarray(p, eol).toString('latin1'), 16);
      if (!Number.isFinite(n) || body.length < eol + 2 + n + 2) break;
      if (n === 0) {
        complete = true;
        break;
      }
      parts.push(body.subarray(eol + 2, eol + 2 + n));
      p = eol + 2 + n + 2;
    }
    body = Buffer.concat(parts);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    complete = body.length >= n;
    body = body.subarray(0, n);
  } else {
    complete = eof;
  }
  return { ...(Number.isInteger(status) ? { status } : {}), headers, body, complete };
}

/**
 * Raw bytes on a fresh connection (requests a conforming client cannot make: duplicate
 * Content-Length, broken chunking, bare LF, oversized headers), then a half-close. Resolves with
 * what came back once the server closed or after `timeoutMs`; each answer is parsed as HTTP/1.1.
 */
export function rawExchange(
  baseUrl: string,
  bytes: Buffer,
  timeoutMs = 5_000,
): Promise<{ raw: Buffer; timedOut: boolean; error?: string }> {
  const url = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port) });
    const received: Buffer[] = [];
    let error: string | undefined;
    let settled = false;
    const finish = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ raw: Buffer.concat(received), timedOut, ...(error !== undefined ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    socket.on('data', (d: Buffer) => received.push(d));
    socket.on('error', (e: NodeJS.ErrnoException) => (error ??= e.code ?? e.message));
    socket.on('close', () => finish(false));
    // Half-close after the bytes: a request the server waits on (a body shorter than declared)
    // then ends instead of running into the request timeout.
    socket.end(bytes);
  });
}

/** Every HTTP/1.1 answer in `raw`, in order (pipelined answers to pipelined requests). */
export function parseResponses(raw: Buffer): Array<ReturnType<typeof parseResponse>> {
  const out: Array<ReturnType<typeof parseResponse>> = [];
  let rest = raw;
  while (rest.length > 0) {
    const r = parseResponse(rest, true);
    out.push(r);
    const sep = rest.indexOf('\r\n\r\n');
    const length = Number(r.headers['content-length']);
    if (sep < 0 || !r.complete || !Number.isInteger(length)) break;
    rest = rest.subarray(sep + 4 + length);
  }
  return out;
}

/** Wall-clock ms with sub-ms precision, comparable across threads (unlike performance.now()). */
export const wallClockMs = () => performance.timeOrigin + performance.now();

export interface HealthReport {
  count: number;
  worstMs: number;
  failures: string[];
  latencies: number[];
  /** Each poll: when it was sent (wallClockMs) and how long it took. */
  samples: Array<{ at: number; ms: number }>;
}

export interface HealthPoller {
  /** The polls answered so far, polling going on. */
  samples(): Promise<Array<{ at: number; ms: number }>>;
  /** Stops polling and reports every latency seen. */
  stop(): Promise<HealthReport>;
}

// Plain JavaScript: it runs in a worker thread, evaluated as is (no TypeScript loader there).
const POLLER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, intervalMs, timeoutMs } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const latencies = [];
const samples = [];
const failures = [];
let running = true;
parentPort.on('message', (m) => {
  if (m === 'samples') parentPort.postMessage({ samples });
  else running = false;
});
const once = () => new Promise((resolve) => {
  const t0 = performance.now();
  let done = false;
  const end = (failure, ms) => {
    if (done) return;
    done = true;
    const took = ms ?? performance.now() - t0;
    latencies.push(took);
    samples.push({ at: performance.timeOrigin + t0, ms: took });
    if (failure) failures.push(failure);
    resolve();
  };
  const r = http.request(new URL('/healthz', url), { agent }, (res) => {
    res.resume();
    res.on('end', () => end(res.statusCode === 200 ? undefined : '/healthz answered ' + res.statusCode));
  });
  r.setTimeout(timeoutMs, () => { end('/healthz did not answer within ' + timeoutMs + ' ms', timeoutMs); r.destroy(); });
  r.on('error', (e) => end('/healthz failed: ' + e.message));
  r.end();
});
(async () => {
  while (running) {
    await once();
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  agent.destroy();
  parentPort.postMessage({ latencies, failures, samples, final: true });
})();
`;

/**
 * Polls GET /healthz one request at a time on a kept-alive connection (a client that already
 * holds a connection, as a load balancer does) every `intervalMs`, recording each latency. It runs
 * in a worker thread, so the test's own work (building and sending bodies) does not delay it. A
 * request slower than `timeoutMs` counts as a failure with that latency.
 */
export function pollHealth(baseUrl: string, options: { intervalMs?: number; timeoutMs?: number } = {}): HealthPoller {
  const worker = new Worker(POLLER_SOURCE, {
    eval: true,
    workerData: { url: baseUrl, intervalMs: options.intervalMs ?? 20, timeoutMs: options.timeoutMs ?? 5_000 },
  });
  type Message = {
    samples: Array<{ at: number; ms: number }>;
    final?: true;
    latencies?: number[];
    failures?: string[];
  };
  const waiting: Array<(samples: Array<{ at: number; ms: number }>) => void> = [];
  const report = new Promise<HealthReport>((resolve, reject) => {
    worker.on('message', (m: Message) => {
      if (!m.final) return void waiting.shift()?.(m.samples);
      const latencies = m.latencies!;
      resolve({
        count: latencies.length,
        worstMs: latencies.reduce((a, b) => Math.max(a, b), 0),
        failures: m.failures!,
        latencies,
        samples: m.samples,
      });
      void worker.terminate();
    });
    worker.once('error', reject);
  });
  return {
    samples: () =>
      new Promise((resolve) => {
        waiting.push(resolve);
        worker.postMessage('samples');
      }),
    stop: async () => {
      worker.postMessage('stop');
      // Bounded: the last poll ends within its own timeout.
      const timer = setTimeout(() => void worker.terminate(), (options.timeoutMs ?? 5_000) + 5_000);
      try {
        return await report;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
