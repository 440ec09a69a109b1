import type { FastifyInstance } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { LogEngine, NamespaceRecord } from '../../log/log-engine.js';
import { requireBearer } from '../auth.js';
import { namespaceIdParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../server.js';

export function namespaceView(engine: LogEngine, ns: NamespaceRecord) {
  return {
    id: ns.id,
    origin: ns.origin,
    log_vkey: ns.logVkey,
    size: engine.integratedSize(ns.id),
    checkpoint_size: engine.latestCheckpoint(ns.id)?.size ?? 0,
    created_at: ns.createdAt,
    policy: ns.policy,
  };
}

export function namespaceRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const admin = requireBearer(ctx.adminToken);

  app.get('/v1/ns', async () => ({ namespaces: ctx.engine.listNamespaces().map((n) => namespaceView(ctx.engine, n)) }));

  app.get<{ Params: { ns: string } }>('/v1/ns/:ns', async (request) => namespaceView(ctx.engine, namespaceParam(ctx.engine, request.params.ns)));

  app.put<{ Params: { ns: string }; Body: unknown }>('/v1/ns/:ns', { preHandler: admin }, async (request, reply) => {
    const id = namespaceIdParam(request.params.ns);
    const body = request.body ?? {};
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'namespace body must be a JSON object (its policy)');
    }
    const ns = ctx.engine.createNamespace(id, body as Record<string, unknown>);
    return reply.status(201).send(namespaceView(ctx.engine, ns));
  });
}
