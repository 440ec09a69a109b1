import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import { TIMESTAMP_QUERY_TYPE, TIMESTAMP_REPLY_TYPE } from '../rfc3161-client.js';
import { runOpenssl } from './openssl-cli.js';
import { DEV_TSA_POLICY_OID, createDevTsaCredentials } from './openssl-tsa-ca.js';

/** A TimeStampReq is about a hundred bytes; anything much larger is not one. */
const MAX_QUERY_BYTES = 16 * 1024;
/** Requests waiting for openssl beyond this are answered 503 rather than queued without bound. */
const MAX_QUEUED = 256;
/** Bound on one `openssl ts -reply`. */
const REPLY_TIMEOUT_MS = 10_000;

export interface StartDevTsaOptions {
  /** Where the CA, the TSA key and certificate, the openssl config and scratch files go (created 0700). */
  dir: string;
  /** Shown in the certificate subjects (`<name> dev TSA`, `<name> dev TSA CA`). Default `vaultmesh`. */
  name?: string;
  /** TCP port on 127.0.0.1 (default 0: one the OS picks; read it from `url`). */
  port?: number;
}

/** A local RFC 3161 TSA: `openssl ts -reply` behind an HTTP front end, for tests and the demo. */
export interface DevTsa {
  /** `http://127.0.0.1:<port>/`: POST application/timestamp-query here. */
  url: string;
  /** The CA certificate to trust for this TSA's tokens. */
  caCertPem: string;
  /** The TSA's signing certificate (tokens carry it too). */
  tsaCertPem: string;
  /** The policy its tokens are issued under (a test OID). */
  policyOid: string;
  /** HTTP requests received so far, refused ones included (while down, too large, wrong type). */
  requests(): number;
  /** While down, every request is answered 503 (a TSA in maintenance), for failover tests. */
  setDown(down: boolean): void;
  /** Closes the server and its connections and waits for a running openssl; `dir` is left to the caller. */
  stop(): Promise<void>;
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
  res.end(`${text}\n`);
}

/** The request body, or undefined after answering 413 to one over MAX_QUERY_BYTES. */
async function readQuery(req: IncomingMessage, res: ServerResponse): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_QUERY_BYTES) {
    answer(res, 413, `a time-stamp query is at most ${MAX_QUERY_BYTES} bytes`);
    req.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_QUERY_BYTES) {
      answer(res, 413, `a time-stamp query is at most ${MAX_QUERY_BYTES} bytes`);
      req.destroy();
      return undefined;
    }
    chunks.push(chunk);
  }
  return new Uint8Array(Buffer.concat(chunks));
}

/**
 * Starts a dev TSA: a fresh CA and TSA certificate made with the `openssl` command line
 * (createDevTsaCredentials), and a node:http server on 127.0.0.1 that takes RFC 3161 §3.4 POSTs of
 * `application/timestamp-query`, runs `openssl ts -reply` on each (one at a time: they share the
 * serial file) and answers 200 `application/timestamp-reply`. Other methods get 405, other media
 * types 415, bodies over 16 KiB 413, and an openssl failure 500.
 */
export async function startDevTsa(options: StartDevTsaOptions): Promise<DevTsa> {
  // Absolute: openssl runs with paths from here, and a relative one broke `ts -reply` (HTTP 500).
  const dir = resolve(options.dir);
  const creds = await createDevTsaCredentials(dir, options.name ?? 'vaultmesh');
  let received = 0;
  let down = false;
  let queued = 0;
  let sequence = 0;
  // openssl ts -reply reads and rewrites the serial file: requests are answered one after another.
  let queue: Promise<void> = Promise.resolve();

  async function reply(query: Uint8Array): Promise<Uint8Array> {
    const id = ++sequence;
    const q = join(dir, `query-${id}.tsq`);
    const r = join(dir, `reply-${id}.tsr`);
    try {
      await writeFile(q, query, { mode: 0o600 });
      const run = await runOpenssl(
        ['ts', '-reply', '-config', creds.configFile, '-queryfile', q, '-out', r],
        dir,
        REPLY_TIMEOUT_MS,
      );
      if (run.code !== 0)
        throw new RemembrancerError('INTERNAL', `openssl ts -reply failed: ${run.output.trim().slice(0, 300)}`);
      return new Uint8Array(await readFile(r));
    } finally {
      await Promise.all([rm(q, { force: true }), rm(r, { force: true })]);
    }
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    received += 1;
    if (down) return answer(res, 503, 'dev TSA is down');
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      return answer(res, 405, 'POST a time-stamp query');
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== TIMESTAMP_QUERY_TYPE) return answer(res, 415, `content type must be ${TIMESTAMP_QUERY_TYPE}`);
    const query = await readQuery(req, res);
    if (query === undefined) return;
    if (queued >= MAX_QUEUED) return answer(res, 503, 'dev TSA is busy');
    queued += 1;
    const done = queue.then(() => reply(query));
    queue = done.then(
      () => undefined,
      () => undefined,
    );
    try {
      const body = await done;
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': TIMESTAMP_REPLY_TYPE, 'content-length': body.length });
      res.end(body);
    } catch (e) {
      answer(res, 500, `dev TSA failed: ${errorMessage(e)}`);
    } finally {
      queued -= 1;
    }
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => answer(res, 500, `dev TSA failed: ${errorMessage(e)}`));
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;

  return {
    url: `http://127.0.0.1:${port}/`,
    caCertPem: creds.caCertPem,
    tsaCertPem: creds.tsaCertPem,
    policyOid: DEV_TSA_POLICY_OID,
    requests: () => received,
    setDown(value) {
      down = value;
    },
    stop() {
      stopped ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        await closed;
        // A reply in progress finishes within REPLY_TIMEOUT_MS (openssl is killed after it).
        await queue;
      })();
      return stopped;
    },
  };
}
