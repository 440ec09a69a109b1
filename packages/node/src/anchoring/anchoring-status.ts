import { anchorQuorum, anchorSigners, epochEndMs, epochNumber, type RegistrySet } from '@vaultmesh/core';
import type { AnchoringConfig } from '../config/anchoring-config.js';
import type { EpochRecord } from './anchor-records.js';
import type { AnchorStorage } from './anchor-storage.js';
import { chainTargetStatus, type ChainTargetStatus } from './chain/chain-status.js';

/** One target as `GET /v1/anchoring/status` shows it (docs/api.md). */
export interface TargetStatus {
  target: string;
  kind: 'rfc3161' | 'eip155' | 'btc';
  /** RFC 3161 targets: how many TSAs must answer, and their URLs. */
  require?: 'any' | 'all';
  tsas?: string[];
  /** Chain targets: transactions in flight, their history and what anchors cost. */
  chain?: ChainTargetStatus;
  epoch_ms: number;
  current_epoch: number;
  /** When the current epoch closes (ISO 8601 UTC): the next anchoring. */
  next_due: string;
  last_finalized: {
    epoch: number;
    mode: string;
    root: string;
    leader: string;
    attempt: number;
    signatures: number;
    leaves: number;
    anchor_time: string;
    finalized_at: string;
    /** Since the anchor, ms; `stale` when leaves are pending and it is more than two epochs old. */
    age_ms: number;
    stale: boolean;
  } | null;
  pending_leaves: number;
  finalized: Record<string, number>;
  abandoned: number;
  duplicates: number;
  failovers: number;
  /** Requests made to the target (a TSA request each, retries and failed calls included). */
  target_requests: number;
  skips: Record<string, number>;
  failures: { total: number; recent: { epoch: number | null; reason: string; at: string }[] };
}

export interface AnchoringStatus {
  node: string;
  strategy: RegistrySet['anchor_strategy'] | null;
  signers: string[];
  quorum: number | null;
  targets: TargetStatus[];
  /** Targets namespaces' cadences name that this node has not configured, with those namespaces. */
  unconfigured_targets: { target: string; namespaces: string[] }[];
}

function counter(counters: Map<string, Map<string, number>>, name: string, label: string): number {
  return counters.get(name)?.get(label) ?? 0;
}

function lastFinalized(
  rec: EpochRecord | undefined,
  epochMs: number,
  nowMs: number,
  pending: number,
): TargetStatus['last_finalized'] {
  const f = rec?.finalization;
  if (rec === undefined || f === undefined) return null;
  const anchorMs = Date.parse(f.anchor.timestamp);
  const age = Number.isFinite(anchorMs) ? Math.max(0, nowMs - anchorMs) : 0;
  return {
    epoch: rec.epoch,
    mode: rec.mode,
    root: f.statement.root,
    leader: f.leader,
    attempt: f.attempt,
    signatures: f.signatures.length,
    leaves: f.leaves.length,
    anchor_time: f.anchor.timestamp,
    finalized_at: f.finalized_at,
    age_ms: age,
    // Stale: leaves wait while the last anchor is more than two epochs old.
    stale: pending > 0 && age > 2 * epochMs,
  };
}

/** The anchoring figures of this node (issue 10, item 10), from its store and settings. */
export async function anchoringStatus(input: {
  self: string;
  registry: RegistrySet | undefined;
  config: AnchoringConfig;
  store: AnchorStorage;
  nowMs: number;
  /** Namespace id → the targets its cadence names. */
  cadenceTargets: ReadonlyMap<string, readonly string[]>;
}): Promise<AnchoringStatus> {
  const { config, store, nowMs, registry } = input;
  const counters = await store.counters();
  const signers = registry ? anchorSigners(registry).map((p) => p.id) : [];
  const targets: TargetStatus[] = [];
  // Target by target, in the configured order: one storage read at a time.
  for (const t of config.targets.values()) {
    const current = epochNumber(nowMs, t.epochMs);
    const skips: Record<string, number> = {};
    for (const [label, n] of counters.get('skips') ?? []) {
      const [target, reason] = label.split('|');
      if (target === t.id && reason !== undefined) skips[reason] = n;
    }
    const finalized: Record<string, number> = {};
    for (const [label, n] of counters.get('finalized') ?? []) {
      const [target, mode] = label.split('|');
      if (target === t.id && mode !== undefined) finalized[mode] = n;
    }
    const pending = await store.dueCount(t.id);
    targets.push({
      target: t.id,
      kind: t.kind,
      ...(t.kind === 'rfc3161'
        ? { require: t.require, tsas: t.tsas.map((s) => s.url) }
        : { chain: await chainTargetStatus(store, t.id, t.kind, t.confirmations) }),
      epoch_ms: t.epochMs,
      current_epoch: current,
      next_due: new Date(epochEndMs(current, t.epochMs)).toISOString(),
      last_finalized: lastFinalized(await store.lastFinalized(t.id), t.epochMs, nowMs, pending),
      pending_leaves: pending,
      finalized,
      abandoned: counter(counters, 'abandoned', t.id),
      duplicates: counter(counters, 'duplicates', t.id),
      failovers: counter(counters, 'failovers', t.id),
      target_requests: counter(counters, 'target_requests', t.id),
      skips,
      failures: {
        total: counter(counters, 'failures', t.id),
        recent: (await store.failures(t.id)).map((f) => ({
          epoch: f.epoch,
          reason: f.reason,
          at: new Date(f.atMs).toISOString(),
        })),
      },
    });
  }
  const unconfigured = new Map<string, string[]>();
  for (const [ns, names] of input.cadenceTargets) {
    for (const target of names) {
      if (config.targets.has(target)) continue;
      let list = unconfigured.get(target);
      if (list === undefined) unconfigured.set(target, (list = []));
      if (!list.includes(ns)) list.push(ns);
    }
  }
  let quorum: number | null;
  try {
    quorum = registry ? anchorQuorum(registry) : null;
  } catch {
    quorum = null;
  }
  return {
    node: input.self,
    strategy: registry?.anchor_strategy ?? null,
    signers,
    quorum,
    targets,
    unconfigured_targets: [...unconfigured].map(([target, namespaces]) => ({ target, namespaces: namespaces.sort() })),
  };
}
