import type { FastifyReply } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { Sealing } from '../namespaces/sealing.js';
import { LogSignatureSealing } from '../namespaces/sealing-without-witnesses.js';
import type { RouteContext } from './route-context.js';

/*
 * What the checkpoint, receipt and policy routes share about sealing: which Sealing answers, the
 * `sealed` query parameter, and the 409 that tells a client to ask again.
 */

/** Seconds a client should wait before asking again for a sealed checkpoint: witnesses are retried about every second. */
export const SEALING_RETRY_AFTER_SECONDS = 1;

const fallback = new WeakMap<RouteContext, Sealing>();

/** The server's sealing, or (no `sealing` option) one where every namespace behaves as k = 0. */
export function routeSealing(ctx: RouteContext): Sealing {
  if (ctx.sealing) return ctx.sealing;
  let s = fallback.get(ctx);
  if (!s) {
    s = new LogSignatureSealing(ctx.engine, () => ctx.self().endpoint);
    fallback.set(ctx, s);
  }
  return s;
}

/**
 * Attacker-controlled yes/no query parameter (`sealed`, `anchored`): `1`/`true` asks for it,
 * `0`/`false`/absent does not.
 */
export function sealedQuery(raw: unknown, name = 'sealed'): boolean {
  if (raw === undefined || raw === '0' || raw === 'false') return false;
  if (raw === '1' || raw === 'true') return true;
  throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be '1' or '0'`);
}

/** NOT_YET_SEALED (409) with a Retry-After: the caller may simply ask again. */
export function notYetSealed(reply: FastifyReply, message: string): never {
  reply.header('retry-after', String(SEALING_RETRY_AFTER_SECONDS));
  throw new RemembrancerError('NOT_YET_SEALED', message);
}
