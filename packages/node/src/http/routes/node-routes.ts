import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../server.js';

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/node', async () => ({
    name: ctx.nodeName,
    version: ctx.version,
    endpoint: ctx.self.endpoint,
    log_vkey: ctx.self.log_vkey,
    witness_vkey: ctx.self.witness_vkey,
    auth_key: ctx.self.auth_key,
    namespaces: ctx.engine.listNamespaces().map((n) => n.id),
  }));
}
