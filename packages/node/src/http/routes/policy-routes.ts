import type { FastifyInstance, FastifyReply } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { Sealing } from '../../namespaces/sealing.js';
import { LogSignatureSealing } from '../../namespaces/sealing-without-witnesses.js';
import { namespaceParam } from '../params.js';
import type { RouteContext } from '../server.js';

/** Seconds a client should wait before asking again for a sealed checkpoint: witnesses are retried about every second. */
export const SEALING_RETRY_AFTER_SECONDS = 1;

const fallback = new WeakMap<RouteContext, Sealing>();

/** The server's sealing, or (no `sealing` option) one where every namespace behaves as k = 0. */
export function routeSealing(ctx: RouteContext): Sealing {
  if (ctx.sealing) return ctx.sealing;
  let s = fallback.get(ctx);
  if (!s) {
    s = new LogSignatureSealing(ctx.engine, () => (typeof ctx.self === 'function' ? ctx.self() : ctx.self).endpoint);
    fallback.set(ctx, s);
  }
  return s;
}

/** Attacker-controlled `sealed` query parameter: `1`/`true` asks for sealed data, `0`/`false`/absent does not. */
export function sealedQuery(raw: unknown): boolean {
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new RemembrancerError('INVALID_ARGUMENT', "sealed must be '1' or '0'");
}

/** NOT_YET_SEALED (409) with a Retry-After: the caller may simply ask again. */
export function notYetSealed(reply: FastifyReply, message: string): never {
  reply.header('retry-after', String(SEALING_RETRY_AFTER_SECONDS));
  throw new RemembrancerError('NOT_YET_SEALED', message);
}

/** `GET /v1/ns/{ns}/policy`: the namespace's witness policy as C2SP tlog-policy text (https://c2sp.org/tlog-policy). */
export function policyRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { ns: string } }>('/v1/ns/:ns/policy', async (request, reply) => {
    const ns = namespaceParam(ctx.engine, request.params.ns);
    const text = routeSealing(ctx).policyText(ns);
    // Policies change through governance; clients should not keep a stale copy.
    reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache');
    return text;
  });
}
