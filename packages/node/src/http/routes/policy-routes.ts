import { namespaceParam } from '../params.js';
import type { HttpArea } from '../scopes.js';
import { routeSealing } from '../sealed-query.js';

/** `GET /v1/ns/{ns}/policy`: the namespace's witness policy as C2SP tlog-policy text (https://c2sp.org/tlog-policy). */
export const policyArea: HttpArea = {
  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string } }>('/v1/ns/:ns/policy', async (request, reply) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const text = routeSealing(ctx).policyText(ns);
      // Policies change through governance; clients should not keep a stale copy.
      reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache');
      return text;
    });
  },
};
