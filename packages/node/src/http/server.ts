import { createServer } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { RegistryPeer } from '@vaultmesh/core';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import { NodeMetrics } from '../metrics/node-metrics.js';
import { clientErrorHandler, frameworkErrorHandler, installErrorHandling } from './error-handler.js';
import {
  BATCH_BODY_LIMIT_BYTES,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HTTP_LIMITS,
  TIMEOUT_CHECK_INTERVAL_MS,
  type HttpLimits,
} from '../config/http-limits.js';
import { boundInFlightBodies } from './in-flight-bodies.js';
import { refuseWhileClosing } from './closing.js';
import { forwardToLeader, type FrontEndRouting } from './front-end-proxy.js';
import { useStrictJsonBodies } from './json-body.js';
import type { FederationRouteDeps, RouteContext } from './route-context.js';
import { installScopes, type HttpArea } from './scopes.js';
import { healthArea } from './routes/health-routes.js';
import { nodeArea } from './routes/node-routes.js';
import { namespaceArea } from './routes/namespace-routes.js';
import { entryArea } from './routes/entry-routes.js';
import { proofArea } from './routes/proof-routes.js';
import { receiptArea } from './routes/receipt-routes.js';
import { tileArea } from './routes/tile-routes.js';
import { policyArea } from './routes/policy-routes.js';
import { governanceArea } from './routes/governance-routes.js';
import { witnessArea } from './routes/witness-routes.js';
import { federationArea } from './routes/federation-routes.js';
import { peerArea } from './routes/peer-routes.js';
import { anchoringArea } from './routes/anchoring-routes.js';
import { inboxArea } from './routes/inbox-routes.js';
import { messageArea } from './routes/message-routes.js';
import { seriesArea } from './routes/series-routes.js';
import { streamArea } from './routes/stream-routes.js';
import { nodeEventsArea } from './routes/node-events-routes.js';
import { explorerArea } from './routes/explorer-routes.js';
import type { InboxService, OutboxService } from '../messaging/messaging-wire.js';
import type { AnchoringService } from '../anchoring/anchoring-service.js';
import type { NamespaceServices } from '../namespaces/namespace-services.js';
import type { Sealing } from '../namespaces/sealing.js';
import type { Witness } from '../witness/witness.js';

/** Every area of the API, each declaring its routes in the scopes that protect them (scopes.ts). */
const AREAS: readonly HttpArea[] = [
  healthArea,
  nodeArea,
  namespaceArea,
  governanceArea,
  entryArea,
  proofArea,
  receiptArea,
  policyArea,
  tileArea,
  witnessArea,
  federationArea,
  peerArea,
  anchoringArea,
  inboxArea,
  messageArea,
  seriesArea,
  streamArea,
  nodeEventsArea,
  explorerArea,
];

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
  checkpointNote?: (origin: string, checkpoint: PublishedCheckpoint) => Promise<string>;
  /** How many witnesses cosigned a checkpoint and how many the federation requires (absent: no federation). */
  witnessState?: (
    origin: string,
    checkpoint: PublishedCheckpoint,
  ) => Promise<{ cosignatures: number; required: number } | undefined>;
  /** Refreshes gauges sampled at scrape time (federation figures) before /metrics renders. */
  onMetricsScrape?: () => void | Promise<void>;
  /** This node's C2SP witness (absent: no witness routes). */
  witness?: Witness;
  /** Federation membership, status, evidence and peer-request checks (absent: no federation or peer routes). */
  federation?: FederationRouteDeps;
  /** Largest batch body, bytes (default BATCH_BODY_LIMIT_BYTES); every other route has its own fixed limit. */
  bodyLimitBytes?: number;
  /** Timeouts and caps on connections and bodies (defaults: DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
  /** The node's pino logger; without one the API logs nothing (tests). */
  logger?: FastifyBaseLogger;
  /** Which checkpoints meet their namespace's witness policy (absent: every namespace as if k = 0). */
  sealing?: Sealing;
  /** Collaborative anchoring (absent: anchoring routes answer NOT_FOUND). */
  anchoring?: AnchoringService;
  /** Cross-namespace messages received (absent: the inbox routes answer NOT_FOUND). */
  inbox?: InboxService;
  /** Cross-namespace messages sent (absent: the message routes answer NOT_FOUND). */
  outbox?: OutboxService;
  /** The live chart's time series and the message stream counts (absent: their routes answer NOT_FOUND). */
  series?: RouteContext['series'];
  messageStreams?: RouteContext['messageStreams'];
  /** The explorer's build served at /explorer/ (default: packages/explorer/dist of this installation). */
  explorerDir?: string;
  /**
   * One of several front ends of a node on a shared database (issue 14): while it does not serve
   * as the lease holder, what only the holder serves is forwarded there (front-end-proxy.ts).
   */
  frontEnd?: FrontEndRouting;
}

/** Builds the HTTP API (not listening yet): `app.listen()` to serve, `app.inject()` in tests. */
export function buildHttpServer(options: HttpServerOptions): FastifyInstance {
  const limits: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const metrics = options.metrics ?? new NodeMetrics();
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : { logger: false }),
    // Each route that takes a body names its own limit (http-limits.ts); this bounds the rest.
    bodyLimit: DEFAULT_BODY_LIMIT_BYTES,
    // A log line per request would cost more than the request at thousands per second; failures
    // are logged by the error handler, traffic is counted in /metrics.
    logController: new LogController({ disableRequestLogging: true }),
    // Namespace ids contain ':'; keep the router from treating anything in them specially.
    routerOptions: { maxParamLength: 200, ignoreTrailingSlash: false },
    // Fastify's own 503 while closing is not our error shape; the hook below answers instead.
    return503OnClosing: false,
    // Node checks these timeouts only every connectionsCheckingInterval, which Fastify cannot set:
    // the server is made here, with every bound a slow or hostile client meets.
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout: limits.requestTimeoutMs,
          headersTimeout: Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs),
          keepAliveTimeout: limits.keepAliveTimeoutMs,
          connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS,
          maxHeaderSize: limits.maxHeaderBytes,
        },
        handler,
      );
      server.maxConnections = limits.maxConnections;
      server.setTimeout(limits.idleTimeoutMs);
      return server;
    },
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler: clientErrorHandler(metrics),
  });
  // Attacker-controlled JSON: decoded as strict UTF-8 and parsed strictly before any route sees it.
  useStrictJsonBodies(app);
  installErrorHandling(app);
  refuseWhileClosing(app);
  if (options.frontEnd) forwardToLeader(app, options.frontEnd);
  boundInFlightBodies(app, limits, metrics);

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ route }, reply.elapsedTime / 1000);
  });

  const self = options.self;
  const ctx: RouteContext = {
    engine: options.engine,
    nodeName: options.nodeName,
    version: options.version,
    self: typeof self === 'function' ? self : () => self,
    checkpointNote: options.checkpointNote ?? ((_origin, cp) => Promise.resolve(cp.note)),
    witnessState: options.witnessState ?? (() => Promise.resolve(undefined)),
    ...(options.onMetricsScrape ? { onMetricsScrape: options.onMetricsScrape } : {}),
    adminToken: options.adminToken,
    namespaces: options.namespaces,
    metrics,
    ...(options.sealing ? { sealing: options.sealing } : {}),
    batchBodyLimitBytes: options.bodyLimitBytes ?? BATCH_BODY_LIMIT_BYTES,
    ...(options.witness ? { witness: options.witness } : {}),
    ...(options.federation ? { federation: options.federation } : {}),
    ...(options.anchoring ? { anchoring: options.anchoring } : {}),
    ...(options.inbox ? { inbox: options.inbox } : {}),
    ...(options.outbox ? { outbox: options.outbox } : {}),
    ...(options.series ? { series: options.series } : {}),
    ...(options.messageStreams ? { messageStreams: options.messageStreams } : {}),
    ...(options.explorerDir !== undefined ? { explorerDir: options.explorerDir } : {}),
    ...(options.frontEnd ? { frontEnd: options.frontEnd } : {}),
  };
  installScopes(app, ctx, AREAS);
  return app;
}
