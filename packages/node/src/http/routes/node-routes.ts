import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../server.js';

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/node', async () => ({
    name: ctx.nodeName,
    version: ctx.version,
    witness_vkey: ctx.witnessVkey,
    namespaces: ctx.engine.listNamespaces().map((n) => n.id),
  }));
}
