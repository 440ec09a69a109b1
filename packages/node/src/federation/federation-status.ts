import { activePeers, peerForOrigin } from '@vaultmesh/core';
import type { Cosigner, WitnessLag } from './cosigner.js';
import type { EquivocationMonitor } from './equivocation-monitor.js';
import { isEpochEvidence, type EvidenceLedger } from './evidence-ledger.js';
import type { StoredEvidence } from './federation-records.js';
import type { FederationRegistry } from './federation-registry.js';
import type { Gossip, GossipPeerState } from './gossip.js';

/** What gossip and split-view detection add to the status. */
export interface SplitViewStatusSources {
  gossip?: Gossip;
  ledger?: EvidenceLedger;
  monitor?: EquivocationMonitor;
  /** The latest checkpoint this node's witness cosigned, per origin (Witness.witnessedOrigins). */
  witnessed?: () => Promise<ReadonlyArray<{ readonly origin: string; readonly size: number }>>;
}

/** Anything that can describe the federation as this node sees it. */
export interface FederationStatusSource {
  status(): Promise<Record<string, unknown>>;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

/**
 * Membership and quorum from the registry in force, witness reachability and cosigning figures,
 * and what gossip saw: each peer's latest checkpoints and their lag behind what our witness
 * cosigned, suspects and equivocation evidence.
 */
export class FederationStatus implements FederationStatusSource {
  constructor(
    private readonly self: string,
    private readonly registry: FederationRegistry,
    private readonly cosigner?: Cosigner,
    private readonly splitView: SplitViewStatusSources = {},
  ) {}

  async status(): Promise<Record<string, unknown>> {
    const reg = this.registry.latest();
    if (!reg) return { node: this.self, federation_id: null, registry_version: null, peers: [] };
    const witnesses = new Map((this.cosigner?.witnessPeers() ?? []).map((w) => [w.peer, w]));
    const lags = this.cosigner?.witnessLags() ?? new Map<string, WitnessLag>();
    const latencies = [...(this.cosigner?.latencies() ?? [])].sort((a, b) => a - b);
    const { gossip, ledger, monitor, witnessed } = this.splitView;
    const gossiped = new Map((gossip?.peers() ?? []).map((g) => [g.peer, g]));
    // Read once for every peer's gossip figures; only where they are shown.
    const witnessedSizes = new Map(
      gossip && witnessed ? (await witnessed()).map((w) => [w.origin, w.size] as const) : [],
    );
    const suspects = monitor?.suspects() ?? [];
    const evidence = (await ledger?.list()) ?? [];
    const refused = new Set(ledger?.refusedOrigins() ?? []);
    // Epoch evidence is against a node (stored under its name), checkpoint evidence against a log.
    const against = (e: StoredEvidence) => (isEpochEvidence(e.doc) ? e.origin : peerForOrigin(reg, e.origin)?.id);
    const evidenceOf = (peer: string) => evidence.filter((e) => against(e) === peer);
    const logEvidence = evidence.filter((e) => !isEpochEvidence(e.doc));
    const epochEvidence = evidence.filter((e) => isEpochEvidence(e.doc));
    return {
      node: this.self,
      federation_id: reg.federation_id,
      registry_version: reg.version,
      quorum: reg.quorum,
      active_peers: activePeers(reg).length,
      peers: reg.peers.map((p) => {
        const w = witnesses.get(p.id);
        return {
          id: p.id,
          endpoint: p.endpoint,
          status: p.status,
          roles: p.roles,
          self: p.id === this.self,
          ...(w
            ? {
                reachable: w.reachable,
                last_cosigned_at: w.lastSuccessAt ?? null,
                last_error: w.lastError ?? null,
                last_latency_ms: w.lastLatencyMs ?? null,
              }
            : {}),
          // This peer as a witness of this node's logs: how far behind their latest checkpoints it is.
          ...(lags.has(p.id) ? { witness_lag: lags.get(p.id) } : {}),
          ...(gossip && p.id !== this.self ? { gossip: this.gossipOf(gossiped.get(p.id), witnessedSizes) } : {}),
          ...(ledger
            ? {
                suspects: suspects
                  .filter((x) => x.peer === p.id)
                  .map((x) => ({
                    origin: x.origin,
                    sizes: x.sizes,
                    reason: x.reason,
                    seen_at: x.seenAt,
                    since: x.since,
                  })),
                evidence: evidenceOf(p.id).length,
                refused_origins: [...refused].filter((o) => peerForOrigin(reg, o)?.id === p.id),
              }
            : {}),
        };
      }),
      ...(gossip
        ? {
            gossip: {
              interval_ms: gossip.intervalMs,
              rounds: gossip.rounds().count,
              last_round_at: gossip.rounds().lastAt,
            },
          }
        : {}),
      ...(ledger
        ? {
            equivocation: {
              evidence: evidence.length,
              origins: [...new Set(logEvidence.map((e) => e.origin))].sort(),
              epoch_evidence: epochEvidence.length,
              epoch_signers: [...new Set(epochEvidence.map((e) => e.origin))].sort(),
              refused_origins: [...refused],
              suspects: suspects.map((x) => ({
                origin: x.origin,
                peer: x.peer,
                sizes: x.sizes,
                reason: x.reason,
                seen_at: x.seenAt,
                since: x.since,
                last_checked_at: x.lastCheckedAt,
              })),
            },
          }
        : {}),
      cosigning: {
        round_p50_ms: percentile(latencies, 50),
        round_p99_ms: percentile(latencies, 99),
        rounds: latencies.length,
        namespaces: (this.cosigner?.namespaces() ?? []).map((n) => ({
          namespace: n.namespace,
          size: n.size,
          cosigners: n.cosigners,
          witnessed: n.cosigners.length >= reg.quorum.witness,
          round_ms: n.roundMs ?? null,
        })),
      },
    };
  }

  private gossipOf(
    g: GossipPeerState | undefined,
    witnessedSizes: ReadonlyMap<string, number>,
  ): Record<string, unknown> {
    if (!g)
      return {
        reachable: null,
        last_seen_at: null,
        last_error: null,
        registry_version: null,
        max_lag: null,
        checkpoints: [],
      };
    const checkpoints = [...g.checkpoints].map(([origin, size]) => {
      const witnessed = witnessedSizes.get(origin);
      // Positive: the peer's log is ahead of what our witness cosigned (not yet cosigned by us).
      return {
        origin,
        size,
        witnessed_size: witnessed ?? null,
        lag: witnessed === undefined ? null : size - witnessed,
      };
    });
    const lags = checkpoints.map((c) => c.lag).filter((l): l is number => l !== null);
    return {
      reachable: g.reachable,
      last_seen_at: g.lastSeenAt ?? null,
      last_error: g.lastError ?? null,
      registry_version: g.registryVersion ?? null,
      // The most entries by which this node's witness trails the peer's logs (null: none known).
      max_lag: lags.length === 0 ? null : Math.max(...lags),
      checkpoints,
    };
  }
}
