import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../server.js';

export function nodeRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/node', async () => {
    const self = typeof ctx.self === 'function' ? ctx.self() : ctx.self;
    return {
      name: ctx.nodeName,
      version: ctx.version,
      endpoint: self.endpoint,
      log_vkey: self.log_vkey,
      witness_vkey: self.witness_vkey,
      auth_key: self.auth_key,
      namespaces: ctx.engine.listNamespaces().map((n) => n.id),
    };
  });
}
