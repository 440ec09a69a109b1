import type { FastifyInstance } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import { requireBearer } from '../http/auth.js';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStatusSource } from './federation-status.js';

export interface FederationRouteContext {
  registry: FederationRegistry;
  status: FederationStatusSource;
  adminToken: string;
}

/** Registry and status endpoints (DESIGN.md: /v1/federation/*). */
export function federationRoutes(app: FastifyInstance, ctx: FederationRouteContext): void {
  const admin = requireBearer(ctx.adminToken);

  app.get<{ Querystring: { all?: string } }>('/v1/federation/registry', async (request) => {
    if (request.query.all === '1') return { versions: ctx.registry.versions() };
    const latest = ctx.registry.latest();
    if (!latest) throw new RemembrancerError('NOT_FOUND', 'this node is not in a federation yet (no registry)');
    return latest;
  });

  // An operator applies a registry version (genesis, or the successor of the one in force); the
  // node verifies its signatures against the version in force before anything changes.
  app.put<{ Body: unknown }>('/v1/federation/registry', { preHandler: admin }, async (request, reply) => {
    const added = ctx.registry.offer(request.body);
    return reply.status(added ? 201 : 200).send({ version: ctx.registry.latest()!.version, applied: added });
  });

  app.get('/v1/federation/status', async () => ctx.status.status());
}
