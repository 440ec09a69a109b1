import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Prometheus metrics of one node. A registry per node (not prom-client's global one) so that
 * several nodes can live in one process, as they do in tests.
 */
export class NodeMetrics {
  readonly registry = new Registry();
  readonly httpRequests = new Counter({
    name: 'remembrancer_http_requests_total',
    help: 'HTTP requests by route and status code',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'remembrancer_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['route'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly httpBusy = new Counter({
    name: 'remembrancer_http_busy_total',
    help: 'Requests refused before their body was read because too many bodies were in flight',
    registers: [this.registry],
  });
  readonly httpClientErrors = new Counter({
    name: 'remembrancer_http_client_errors_total',
    help: "Connections answered by the HTTP parser's error path (malformed request, headers too large, timeout), by code",
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly entriesAppended = new Counter({
    name: 'remembrancer_entries_appended_total',
    help: 'Entries durably appended, by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly appendRejected = new Counter({
    name: 'remembrancer_append_rejected_total',
    help: 'Append requests rejected, by error code',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly treeSize = new Gauge({
    name: 'remembrancer_tree_size',
    help: 'Integrated tree size, by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly checkpointSize = new Gauge({
    name: 'remembrancer_checkpoint_size',
    help: 'Tree size of the latest published checkpoint, by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });

  readonly gossipRounds = new Counter({
    name: 'remembrancer_gossip_rounds_total',
    help: "Gossip rounds completed (every active peer's view pulled or timed out)",
    registers: [this.registry],
  });
  readonly gossipPeerReachable = new Gauge({
    name: 'remembrancer_gossip_peer_reachable',
    help: '1 if the peer answered the last gossip pull, else 0, by peer',
    labelNames: ['peer'] as const,
    registers: [this.registry],
  });
  readonly gossipSuspects = new Gauge({
    name: 'remembrancer_gossip_suspects',
    help: 'Origins whose node could not prove two of its checkpoints consistent (no evidence yet)',
    registers: [this.registry],
  });
  readonly equivocationEvidence = new Gauge({
    name: 'remembrancer_equivocation_evidence',
    help: 'Equivocation evidence documents held',
    registers: [this.registry],
  });
  readonly equivocationDetected = new Counter({
    name: 'remembrancer_equivocation_detected_total',
    help: 'Equivocation evidence documents this node made and signed',
    registers: [this.registry],
  });
  readonly refusedOrigins = new Gauge({
    name: 'remembrancer_witness_refused_origins',
    help: "Federation origins this node's witness refuses to cosign because of evidence under the registry in force",
    registers: [this.registry],
  });

  readonly cosignRound = new Histogram({
    name: 'remembrancer_cosign_round_seconds',
    help: 'Cosigning round latency: first witness request to last answer, per checkpoint',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  readonly witnessRequests = new Counter({
    name: 'remembrancer_witness_requests_total',
    help: "Checkpoints sent to peers' witnesses, by peer and result (cosigned, failed)",
    labelNames: ['peer', 'result'] as const,
    registers: [this.registry],
  });
  readonly checkpointCosigners = new Gauge({
    name: 'remembrancer_checkpoint_cosigners',
    help: 'Valid witness cosignatures on the latest checkpoint, by namespace',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });

  readonly peerCheckpointSize = new Gauge({
    name: 'remembrancer_peer_checkpoint_size',
    help: "Size of the latest checkpoint gossip saw of a peer's namespace log, by origin",
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  readonly peerLag = new Gauge({
    name: 'remembrancer_peer_witness_lag',
    help: "Entries a peer's log is ahead of what this node's witness cosigned for it, by origin",
    labelNames: ['origin'] as const,
    registers: [this.registry],
  });
  /** Anchoring figures of GET /v1/anchoring/status, by target (and `what`), sampled at scrape time. */
  readonly anchoring = new Gauge({
    name: 'remembrancer_anchoring',
    help: 'Anchoring by target: what = last_finalized_epoch, last_anchor_age_seconds, pending_leaves, finalized_epochs, abandoned_epochs, duplicates, failovers, target_requests, failures, skips',
    labelNames: ['target', 'what'] as const,
    registers: [this.registry],
  });

  /**
   * What this node's final chain anchors cost (issue 11, item 7), by target and unit (wei or
   * sats): in total, per anchored epoch and per anchored namespace checkpoint. Doubles: a gauge of
   * wei loses precision past 2^53 (~0.009 ETH); status has the exact decimal strings.
   */
  readonly chainAnchorFee = new Gauge({
    name: 'remembrancer_chain_anchor_fee',
    help: 'Fees paid by final chain anchors this node sent (wei for eip155, sats for btc), in total',
    labelNames: ['target', 'unit'] as const,
    registers: [this.registry],
  });

  readonly chainAnchorCost = new Gauge({
    name: 'remembrancer_chain_anchor_cost',
    help: 'Chain anchor costs by target: what = anchors, checkpoints, gas_used, vbytes, fee_per_epoch, fee_per_checkpoint, in_flight',
    labelNames: ['target', 'what'] as const,
    registers: [this.registry],
  });

  /** Cross-namespace messages received (issue 12), by what became of them: status, and code when refused. */
  readonly inboxMessages = new Counter({
    name: 'remembrancer_inbox_messages_total',
    help: 'Messages delivered to this node, by status (accepted, duplicate, held, refused) and refusal code (empty otherwise)',
    labelNames: ['status', 'code'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics) collectDefaultMetrics({ register: this.registry, prefix: 'remembrancer_' });
  }
}
