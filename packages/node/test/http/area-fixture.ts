import type { FastifyInstance } from 'fastify';
import type { PublishedCheckpoint } from '../../src/log/log-engine.js';
import type { LogEngine } from '../../src/log/log-engine.js';
import type { FederationRouteDeps, RouteContext } from '../../src/http/route-context.js';
import type { HttpArea } from '../../src/http/scopes.js';
import { peerScope } from '../../src/http/peer-scope.js';

/**
 * Mounts one area of the API on a bare Fastify app for a route test: its public routes as they
 * are, its peer routes inside the peer scope (RFC 9421 checks included). Only the context members
 * the area reads need to be real.
 */
export function mountFederationArea(
  app: FastifyInstance,
  area: HttpArea,
  deps: {
    self: string;
    federation: FederationRouteDeps;
    engine?: LogEngine;
    checkpointNote?: (origin: string, cp: PublishedCheckpoint) => string;
  },
): void {
  const ctx = {
    nodeName: deps.self,
    federation: deps.federation,
    engine: deps.engine,
    checkpointNote: deps.checkpointNote ?? ((_o: string, cp: PublishedCheckpoint) => cp.note),
  } as unknown as RouteContext;
  area.public?.(app, ctx);
  if (area.peer) {
    const { registry, store, now } = deps.federation;
    peerScope(app, { registry, store, self: deps.self, ...(now ? { now } : {}) }, (scope) => area.peer!(scope, ctx));
  }
}
