import type { RegistryPeer } from '@vaultmesh/core';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { NamespaceServices } from '../namespaces/namespace-services.js';
import type { Sealing } from '../namespaces/sealing.js';
import type { EvidenceLedger } from '../federation/evidence-ledger.js';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { FederationStatusSource } from '../federation/federation-status.js';
import type { FederationStorage } from '../federation/federation-storage.js';
import type { Witness } from '../witness/witness.js';
import type { AnchoringService } from '../anchoring/anchoring-service.js';
import type { InboxService, OutboxService } from '../messaging/messaging-wire.js';
import type { OutboxStreamCounts } from '../messaging/outbox/stream-counts.js';
import type { InboxStreamCounts } from '../messaging/inbox/stream-counts.js';
import type { NodeSeries } from '../metrics/node-series.js';
import type { FrontEndRouting } from './front-end-proxy.js';

/** What the federation routes need: membership, status, evidence, and the peer-request checks. */
export interface FederationRouteDeps {
  registry: FederationRegistry;
  status: FederationStatusSource;
  /** Nonces of peer requests, cosignatures. */
  store: FederationStorage;
  /** Equivocation evidence held (GET) and pushed by peers (POST, peer-signed). */
  ledger: EvidenceLedger;
  /** The checkpoints this node's witness cosigned last, one per log (what gossip shows peers). */
  witnessed?: () => Promise<ReadonlyArray<{ readonly origin: string; readonly note: string }>>;
  /** The peer-request clock, unix seconds (tests skew it). */
  now?: () => number;
}

/**
 * Everything a route needs. Each area of the API (routes/*) gets this and the scopes it declares
 * routes in (scopes.ts); nothing else of the server.
 */
export interface RouteContext {
  engine: LogEngine;
  nodeName: string;
  version: string;
  /** This node as a registry peer entry: its endpoint and public keys (keys rotate, the endpoint may be known late). */
  self: () => RegistryPeer;
  adminToken: string;
  /** Namespace rules: governance, writers, schemas, limits, cadence (see namespaces/). */
  namespaces: NamespaceServices;
  metrics: NodeMetrics;
  /** The note served for a checkpoint: the log-signed note plus every cosignature held. */
  checkpointNote: (origin: string, checkpoint: PublishedCheckpoint) => Promise<string>;
  /** How many witnesses cosigned a checkpoint and how many the federation requires (undefined: no federation). */
  witnessState: (
    origin: string,
    checkpoint: PublishedCheckpoint,
  ) => Promise<{ cosignatures: number; required: number } | undefined>;
  /** Refreshes gauges sampled at scrape time (federation figures) before /metrics renders. */
  onMetricsScrape?: () => void | Promise<void>;
  /** Which checkpoints meet their namespace's witness policy (absent: every namespace as if k = 0). */
  sealing?: Sealing;
  /** Largest batch body, bytes. */
  batchBodyLimitBytes: number;
  /** This node's C2SP witness (absent: no witness routes). */
  witness?: Witness;
  /** Federation membership (absent: no federation or peer routes). */
  federation?: FederationRouteDeps;
  /** Collaborative anchoring (absent: anchoring routes answer NOT_FOUND, receipts list no anchors). */
  anchoring?: AnchoringService;
  /** Cross-namespace messages received (absent: the inbox routes answer NOT_FOUND). */
  inbox?: InboxService;
  /** Cross-namespace messages sent (absent: the message routes answer NOT_FOUND). */
  outbox?: OutboxService;
  /** The live chart's time series (absent: GET /v1/node/series answers NOT_FOUND). */
  series?: NodeSeries;
  /** Message streams counted by state (absent: GET /v1/messages/streams answers NOT_FOUND). */
  messageStreams?: { outbox: OutboxStreamCounts; inbox: InboxStreamCounts };
  /** The explorer's build served at /explorer/ (absent: packages/explorer/dist of this installation). */
  explorerDir?: string;
  /** One of several front ends of a node on a shared database: whether it serves as the lease holder now. */
  frontEnd?: Pick<FrontEndRouting, 'leading'>;
}
