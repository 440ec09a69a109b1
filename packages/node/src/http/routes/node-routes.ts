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
      // Private namespaces are not announced; their readers know their ids.
      namespaces: ctx.namespaces.directory
        .list()
        .filter((r) => r.spec.visibility === 'public')
        .map((r) => r.id),
    };
  });
}
