import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';

/** What the HTTP layer needs to know of this front end's role (daemon/front-end-role.ts). */
export interface FrontEndRouting {
  /** Whether this front end holds the sequencing lease (and so runs the node's singleton work). */
  leading(): boolean;
  /** Where the lease holder serves, if one holds the lease now. */
  leaderUrl(): Promise<string | undefined>;
}

/** How long a forwarded request may take before the client gets 503, ms (long polls stay under it). */
const FORWARD_TIMEOUT_MS = 60_000;

/** Headers that describe one connection, not the request (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
]);

/**
 * What a front end that does not hold the lease serves itself (issue 14): appends — their
 * indices come from the shared database — and reads of the logs, which it follows; health,
 * metrics and the explorer. Everything else (governance, peers, the witness, anchoring,
 * messages, federation) is the holder's work and state, so it is forwarded there as it came.
 */
export function servedByEveryFrontEnd(method: string, path: string): boolean {
  if (path === '/healthz' || path === '/metrics' || path === '/explorer' || path.startsWith('/explorer/')) return true;
  const ns = /^\/v1\/ns\/[^/]+(\/.*)?$/.exec(path);
  if (method === 'POST') return ns !== null && (ns[1] === '/entries' || ns[1] === '/batch');
  if (method !== 'GET' && method !== 'HEAD') return false;
  if (path === '/v1/ns') return true;
  if (ns === null) return false;
  const rest = ns[1] ?? '';
  return !rest.startsWith('/inbox') && !rest.startsWith('/messages');
}

function forwardedHeaders(headers: IncomingHttpHeaders, request: FastifyRequest): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  // RFC 7239: who asked, and through which front end (the Host header is kept: peer signatures cover the authority).
  const prior = typeof headers.forwarded === 'string' ? `${headers.forwarded}, ` : '';
  out.forwarded = `${prior}for="${request.ip}"`;
  return out;
}

/**
 * Forwards the requests a follower does not serve to the lease holder, before any parsing: the
 * raw body streams through unchanged (signatures and digests stay valid), and the holder's answer
 * streams back. No holder now (a failover in progress), or this front end itself recorded as the
 * holder while it no longer leads: 503 LEASE_LOST, which clients retry.
 */
export function forwardToLeader(app: FastifyInstance, routing: FrontEndRouting): void {
  app.addHook('onRequest', async (request, reply) => {
    if (routing.leading()) return;
    const path = request.url.split('?', 1)[0]!;
    if (servedByEveryFrontEnd(request.method, path)) return;
    const leader = await routing.leaderUrl();
    if (leader === undefined) {
      throw new RemembrancerError(
        'LEASE_LOST',
        'no front end of this node holds the sequencing lease now; retry shortly',
      );
    }
    const target = new URL(request.url, leader);
    reply.hijack();
    const out = reply.raw;
    await new Promise<void>((resolve) => {
      const upstream = httpRequest(
        target,
        { method: request.method, headers: forwardedHeaders(request.headers, request), timeout: FORWARD_TIMEOUT_MS },
        (answer) => {
          const headers: Record<string, string | string[]> = {};
          for (const [k, v] of Object.entries(answer.headers))
            if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
          out.writeHead(answer.statusCode ?? 502, headers);
          answer.pipe(out);
          answer.on('end', resolve);
          answer.on('error', () => {
            out.destroy();
            resolve();
          });
        },
      );
      const fail = (why: string) => {
        if (!out.headersSent) {
          const body = JSON.stringify({ code: 'LEASE_LOST', message: `the lease holder did not answer: ${why}` });
          out.writeHead(503, {
            'content-type': 'application/json; charset=utf-8',
            'content-length': Buffer.byteLength(body),
          });
          out.end(body);
        } else out.destroy();
        resolve();
      };
      upstream.on('timeout', () => upstream.destroy(new Error('timed out')));
      upstream.on('error', (e) => fail(e.message));
      request.raw.pipe(upstream);
    });
  });
}
