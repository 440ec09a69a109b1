import type { NodeMetrics } from '../metrics/node-metrics.js';

interface StatusPeer {
  gossip?: { checkpoints?: Array<{ origin: string; size: number; lag: number | null }> };
}

/** Copies the per-origin gossip figures of `GET /v1/federation/status` into gauges at scrape time. */
export function sampleFederationMetrics(status: Record<string, unknown>, metrics: NodeMetrics): void {
  const peers = (status.peers as StatusPeer[] | undefined) ?? [];
  for (const p of peers) {
    for (const c of p.gossip?.checkpoints ?? []) {
      metrics.peerCheckpointSize.set({ origin: c.origin }, c.size);
      if (c.lag !== null) metrics.peerLag.set({ origin: c.origin }, c.lag);
    }
  }
}
