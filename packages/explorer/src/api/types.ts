// The shapes of the public API answers the explorer reads (docs/api.md). Only the members the
// pages show are named; everything read from the network is treated as possibly absent.

export interface NodeInfo {
  name: string;
  version: string;
  endpoint: string;
  log_vkey: string;
  witness_vkey: string;
  namespaces: string[];
}

export interface RegistryPeer {
  id: string;
  endpoint: string;
  status?: string;
  roles?: string[];
}

export interface Registry {
  federation_id?: string;
  version?: number;
  peers?: RegistryPeer[];
}

export interface GossipCheckpoint {
  origin: string;
  size: number;
  witnessed_size: number;
  lag: number;
}

export interface PeerStatus {
  id: string;
  endpoint: string;
  status: string;
  roles?: string[];
  self?: boolean;
  reachable?: boolean;
  last_cosigned_at?: string | null;
  last_error?: string | null;
  last_latency_ms?: number | null;
  /** This peer as a witness of the serving node's logs: namespaces it trails and by how many entries. */
  witness_lag?: { namespaces: number; behind: number; entries: number };
  gossip?: {
    reachable?: boolean;
    last_seen_at?: string | null;
    last_error?: string | null;
    registry_version?: number | null;
    checkpoints?: GossipCheckpoint[];
  };
  suspects?: string[];
  evidence?: number;
  refused_origins?: string[];
}

export interface FederationStatus {
  node: string;
  /** null (and registry_version too, with no peers) on a node without a registry. */
  federation_id: string | null;
  registry_version: number | null;
  quorum?: { witness?: number; registry?: number };
  active_peers?: number;
  peers: PeerStatus[];
  equivocation?: {
    evidence?: number;
    origins?: string[];
    epoch_evidence?: number;
    epoch_signers?: string[];
    refused_origins?: string[];
    suspects?: string[];
  };
  cosigning?: {
    round_p50_ms?: number | null;
    round_p99_ms?: number | null;
    rounds?: number;
    namespaces?: {
      namespace: string;
      size: number;
      cosigners: string[];
      witnessed: boolean;
      round_ms?: number | null;
    }[];
  };
}

export interface CadenceSchedule {
  target: string;
  every: string;
  period_ms: number;
  confirmations: number;
  next_due: string;
  last_due?: string | null;
  due_count?: number;
}

export interface NamespaceInfo {
  id: string;
  origin: string;
  log_vkey: string;
  size: number;
  checkpoint_size: number;
  checkpoint?: { size: number; signed_at: string; sealed: boolean; cosigners: string[]; min_required: number } | null;
  sealed_checkpoint?: { size: number; signed_at: string } | null;
  created_at?: string;
  updated_at?: string;
  version?: number;
  system?: boolean;
  description?: string;
  visibility?: string;
  witness_policy?: { min_required: number; allowlist: string[] };
  schema_policy?: { allow: string[] };
  writers?: unknown[];
  limits?: Record<string, number | null>;
  cadence?: Record<string, { target: string; every: string; confirmations?: number }>;
  cadence_schedule?: Record<string, CadenceSchedule>;
  messaging?: { accept_from: string[]; actions: string[]; operations: string[]; min_witnesses: number };
  anchoring?: Record<string, { configured: boolean; anchored_size: number; queued: boolean }>;
}

export interface EntryRow {
  index: number;
  leaf_hash: string;
  entry: unknown;
}

export interface EntriesPage {
  entries: EntryRow[];
  next?: number;
}

export interface AnchorFailure {
  epoch: number;
  reason: string;
  at: string;
}

export interface AnchorTargetStatus {
  target: string;
  kind: string;
  require?: string;
  tsas?: string[];
  epoch_ms: number;
  current_epoch?: number;
  next_due?: string;
  last_finalized?: {
    epoch: number;
    mode?: string;
    root?: string;
    leader?: string;
    attempt?: number;
    signatures?: number;
    leaves?: number;
    anchor_time?: string;
    finalized_at?: string;
    age_ms?: number;
    stale?: boolean;
  } | null;
  pending_leaves?: number;
  finalized?: Record<string, number>;
  abandoned?: number;
  duplicates?: number;
  failovers?: number;
  target_requests?: number;
  skips?: Record<string, number>;
  failures?: { total: number; recent: AnchorFailure[] };
  chain?: {
    confirmations?: number;
    in_flight?: { epoch: number; txid: string; state: string; confirmations?: number }[];
    recent_events?: { kind?: string; event?: string; epoch?: number; txid?: string; at?: string }[];
    costs?: Record<string, string | number>;
  };
}

export interface AnchoringStatus {
  node: string;
  strategy?: string;
  signers?: unknown;
  quorum?: unknown;
  targets: AnchorTargetStatus[];
  unconfigured_targets?: string[];
}

export interface EvidenceDocument {
  type: string;
  [member: string]: unknown;
}

export interface Endpoint {
  node: string;
  namespace: string;
}

/** GET /v1/messages/streams: a stream this node sends on, counted by message state. */
export interface OutgoingStream {
  source: Endpoint;
  target: Endpoint;
  last_seq: number;
  queued: number;
  sealed: number;
  delivered: number;
  refused: number;
  expired: number;
}

/** GET /v1/messages/streams: a stream this node receives on, counted by what its inbox did. */
export interface IncomingStream {
  source: Endpoint & { origin?: string };
  target: Endpoint;
  last_seq: number;
  next_seq?: number;
  accepted: number;
  held: number;
  refused: number;
  expired: number;
}

export interface MessageStreams {
  node: string;
  outgoing: OutgoingStream[];
  incoming: IncomingStream[];
  truncated?: boolean;
}
