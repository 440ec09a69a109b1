import type { FastifyInstance } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import { requireBearer } from '../http/auth.js';
import { REGISTRY_BODY_LIMIT_BYTES } from '../http/http-limits.js';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStatusSource } from './federation-status.js';

/** The equivocation evidence a node holds (EvidenceLedger). */
export interface EvidenceSource {
  list(origin?: string): ReadonlyArray<{ readonly doc: unknown }>;
}

export interface FederationRouteContext {
  registry: FederationRegistry;
  status: FederationStatusSource;
  adminToken: string;
  /** Serves `GET /v1/federation/evidence` when given (see federationEvidenceRoutes). */
  evidence?: EvidenceSource;
}

/**
 * `GET /v1/federation/evidence[?origin=O]`, public: `{"evidence": [...]}`, every equivocation
 * evidence document this node holds (each verified against the registry in force when it
 * arrived; anyone can check it again with core's verifyEvidenceWithRegistry), oldest first.
 */
export function federationEvidenceRoutes(app: FastifyInstance, evidence: EvidenceSource): void {
  app.get<{ Querystring: { origin?: string } }>('/v1/federation/evidence', async (request) => {
    const origin = request.query.origin;
    if (origin !== undefined && typeof origin !== 'string') throw new RemembrancerError('INVALID_ARGUMENT', 'origin must be given once');
    return { evidence: evidence.list(origin).map((e) => e.doc) };
  });
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
  app.put<{ Body: unknown }>('/v1/federation/registry', { onRequest: admin, bodyLimit: REGISTRY_BODY_LIMIT_BYTES }, async (request, reply) => {
    const added = ctx.registry.offer(request.body);
    return reply.status(added ? 201 : 200).send({ version: ctx.registry.latest()!.version, applied: added });
  });

  app.get('/v1/federation/status', async () => ctx.status.status());
  if (ctx.evidence) federationEvidenceRoutes(app, ctx.evidence);
}
