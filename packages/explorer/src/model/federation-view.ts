import type { FederationStatus, PeerStatus } from '../api/types.ts';
import { worst, type Health } from './health.ts';

/** What the browser itself saw when it asked a node for GET /v1/node. */
export interface Probe {
  ok: boolean;
  /** Why not, when not ok. */
  error?: string;
  /** The node's name as it answered (a different name at that endpoint is worth showing). */
  name?: string;
}

/** One row of the Federation page: a registry peer as this node and the browser see it. */
export interface PeerRow {
  id: string;
  endpoint: string;
  roles: string[];
  self: boolean;
  registryStatus: string;
  /** The browser reached the node (undefined: not asked yet). */
  reachable: boolean | undefined;
  /** The node serving the page reaches it (its gossip); undefined for itself. */
  reachableFromNode: boolean | undefined;
  registryVersion: number | undefined;
  /** Entries its checkpoints are ahead of what the federation's witnesses cosigned (the largest per namespace; peers only). */
  witnessLag: number | undefined;
  cosignLatencyMs: number | undefined;
  lastCosignedAt: string | undefined;
  suspects: string[];
  evidence: number;
  health: Health;
  /** Why the health is not OK, in words. */
  reasons: string[];
}

export function peerRows(status: FederationStatus, probes: ReadonlyMap<string, Probe>): PeerRow[] {
  return status.peers.map((p) => peerRow(p, status, probes.get(p.id)));
}

function peerRow(p: PeerStatus, status: FederationStatus, probe: Probe | undefined): PeerRow {
  const self = p.self === true;
  const registryVersion = self ? (status.registry_version ?? undefined) : (p.gossip?.registry_version ?? undefined);
  // The node's own measure of this peer as its witness (entries its cosignatures trail); older
  // nodes without it: the largest lag of the peer's gossiped checkpoints.
  const lags = p.witness_lag
    ? [p.witness_lag.entries]
    : (p.gossip?.checkpoints ?? []).map((c) => c.lag).filter((n) => Number.isFinite(n));
  // Lag is shown, not judged: under steady appends a checkpoint is briefly ahead of its cosignatures.
  const witnessLag = self ? undefined : lags.length > 0 ? Math.max(...lags) : undefined;
  const reachableFromNode = self ? undefined : p.reachable === true || p.gossip?.reachable === true;
  const reasons: string[] = [];
  const levels: Health[] = [];
  if (probe && !probe.ok) {
    levels.push('bad');
    reasons.push(`unreachable from this browser: ${probe.error ?? 'no answer'}`);
  } else if (probe?.name !== undefined && probe.name !== p.id) {
    levels.push('bad');
    reasons.push(`the node at ${p.endpoint} says it is ${probe.name}`);
  }
  if (!self && reachableFromNode === false) {
    levels.push('bad');
    reasons.push(`unreachable from ${status.node}${p.last_error ? `: ${p.last_error}` : ''}`);
  }
  if (p.status !== 'active') {
    levels.push('warn');
    reasons.push(`registry status ${p.status}`);
  }
  if (registryVersion !== undefined && registryVersion !== status.registry_version) {
    levels.push('warn');
    reasons.push(`registry version ${registryVersion}, not ${status.registry_version}`);
  }
  const suspects = p.suspects ?? [];
  if (suspects.length > 0) {
    levels.push('warn');
    reasons.push(`suspected by ${suspects.join(', ')}`);
  }
  const evidence = p.evidence ?? 0;
  if (evidence > 0) {
    levels.push('bad');
    reasons.push(`${evidence} equivocation evidence document${evidence === 1 ? '' : 's'}`);
  }
  const health: Health =
    probe === undefined && levels.length === 0 ? 'unknown' : levels.length === 0 ? 'ok' : worst(levels);
  return {
    id: p.id,
    endpoint: p.endpoint,
    roles: p.roles ?? [],
    self,
    registryStatus: p.status,
    reachable: probe?.ok,
    reachableFromNode,
    registryVersion,
    witnessLag,
    cosignLatencyMs: p.last_latency_ms ?? undefined,
    lastCosignedAt: p.last_cosigned_at ?? undefined,
    suspects,
    evidence,
    health,
    reasons,
  };
}
