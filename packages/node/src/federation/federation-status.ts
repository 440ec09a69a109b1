import { activePeers } from '@vaultmesh/core';
import type { Cosigner } from './cosigner.js';
import type { FederationRegistry } from './federation-registry.js';

/** Anything that can describe the federation as this node sees it. */
export interface FederationStatusSource {
  status(): Record<string, unknown>;
}

function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! * 10) / 10;
}

/** Membership and quorum from the registry in force, witness reachability and cosigning figures. */
export class FederationStatus implements FederationStatusSource {
  constructor(
    private readonly self: string,
    private readonly registry: FederationRegistry,
    private readonly cosigner?: Cosigner,
  ) {}

  status(): Record<string, unknown> {
    const reg = this.registry.latest();
    if (!reg) return { node: this.self, federation_id: null, registry_version: null, peers: [] };
    const witnesses = new Map((this.cosigner?.witnessPeers() ?? []).map((w) => [w.peer, w]));
    const latencies = [...(this.cosigner?.latencies() ?? [])].sort((a, b) => a - b);
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
          ...(w ? { reachable: w.reachable, last_cosigned_at: w.lastSuccessAt ?? null, last_error: w.lastError ?? null, last_latency_ms: w.lastLatencyMs ?? null } : {}),
        };
      }),
      cosigning: {
        round_p50_ms: percentile(latencies, 50),
        round_p99_ms: percentile(latencies, 99),
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
}
