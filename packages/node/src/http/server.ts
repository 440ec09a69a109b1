import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { RemembrancerError, parseJsonStrict, type RegistryPeer } from '@vaultmesh/core';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import { NodeMetrics } from '../metrics/node-metrics.js';
import type { FederationRegistry } from '../federation/federation-registry.js';
import { federationRoutes } from '../federation/federation-routes.js';
import type { FederationStatusSource } from '../federation/federation-status.js';
import { installErrorHandling } from './error-handler.js';
import { healthRoutes } from './routes/health-routes.js';
import { nodeRoutes } from './routes/node-routes.js';
import { namespaceRoutes } from './routes/namespace-routes.js';
import { entryRoutes } from './routes/entry-routes.js';
import { proofRoutes } from './routes/proof-routes.js';
import { receiptRoutes } from './routes/receipt-routes.js';
import { tileRoutes } from './routes/tile-routes.js';
import { policyRoutes } from './routes/policy-routes.js';
import { governanceRoutes } from './routes/governance-routes.js';
import type { NamespaceServices } from '../namespaces/namespace-services.js';
import type { Sealing } from '../namespaces/sealing.js';

export interface HttpServerOptions {
  engine: LogEngine;
  nodeName: string;
  version: string;
  /** This node as a registry peer entry: its endpoint and public keys (a function: keys rotate). */
  self: RegistryPeer | (() => RegistryPeer);
  adminToken: string;
  /** Namespace rules: governance, writers, schemas, limits, cadence (see namespaces/). */
  namespaces: NamespaceServices;
  metrics?: NodeMetrics;
  /** The note served for a checkpoint: the log-signed note plus every cosignature held (default: as published). */
  checkpointNote?: (origin: string, checkpoint: PublishedCheckpoint) => string;
  /** How many witnesses cosigned a checkpoint and how many the federation requires (absent: no federation). */
  witnessState?: (origin: string, checkpoint: PublishedCheckpoint) => { cosignatures: number; required: number } | undefined;
  /** Refreshes gauges sampled at scrape time (federation figures) before /metrics renders. */
  onMetricsScrape?: () => void;
  /** Extra route plugins (witness, federation peer routes) registered after the core API. */
  plugins?: ReadonlyArray<(app: FastifyInstance) => void>;
  /** Federation membership and status (registry, status endpoints). */
  federation?: { registry: FederationRegistry; status: FederationStatusSource };
  bodyLimitBytes?: number;
  /** The node's pino logger; without one the API logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /** Which checkpoints meet their namespace's witness policy (absent: every namespace as if k = 0). */
  sealing?: Sealing;
}

/** Everything a route needs, handed to each route plugin. */
export interface RouteContext extends Required<Omit<HttpServerOptions, 'logger' | 'bodyLimitBytes' | 'federation' | 'plugins' | 'onMetricsScrape' | 'sealing'>> {
  onMetricsScrape?: () => void;
  sealing?: Sealing;
}

/** Builds the HTTP API (not listening yet): `app.listen()` to serve, `app.inject()` in tests. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    bodyLimit: options.bodyLimitBytes ?? 64 * 1024 * 1024,
    // A log line per request would cost more than the request at thousands per second; failures
    // are logged by the error handler, traffic is counted in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    // Namespace ids contain ':'; keep the router from treating anything in them specially.
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    return503OnClosing: true,
  });
  // Attacker-controlled JSON: parsed strictly (duplicate keys, lone surrogates rejected) before any route sees it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonStrict(body as string));
    } catch (e) {
      done(e instanceof RemembrancerError ? e : new RemembrancerError('INVALID_JSON', 'request body is not valid JSON'), undefined);
    }
  });
  installErrorHandling(app);

  const metrics = options.metrics ?? new NodeMetrics();
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  const ctx: RouteContext = {
    engine: options.engine,
    nodeName: options.nodeName,
    version: options.version,
    self: options.self,
    checkpointNote: options.checkpointNote ?? ((_origin, cp) => cp.note),
    witnessState: options.witnessState ?? (() => undefined),
    ...(options.onMetricsScrape ? { onMetricsScrape: options.onMetricsScrape } : {}),
    adminToken: options.adminToken,
    namespaces: options.namespaces,
    metrics,
    ...(options.sealing ? { sealing: options.sealing } : {}),
  };
  for (const plugin of [healthRoutes, nodeRoutes, namespaceRoutes, governanceRoutes, entryRoutes, proofRoutes, receiptRoutes, policyRoutes, tileRoutes]) {
    plugin(app, ctx);
  }
  if (options.federation) federationRoutes(app, { ...options.federation, adminToken: options.adminToken });
  for (const plugin of options.plugins ?? []) plugin(app);
  return app;
}
