import {
  RemembrancerError,
  canonicalize,
  crypto,
  toHex,
  utf8Encode,
  type EpochLeaf,
  type EpochStatement,
} from '@vaultmesh/core';
import type { AnchorEvidence, EpochFinalization } from './epoch-finalization.js';

/*
 * What the anchoring store keeps, as both backends (AnchorStore on SQLite, PgAnchorStorage on
 * PostgreSQL) read and write it: the records they return, and the row shapes and conversions
 * their tables share (the PostgreSQL tables carry the SQLite column names).
 */

export type EpochMode = EpochStatement['mode'];

export interface DueNamespace {
  readonly target: string;
  readonly namespace: string;
  readonly dueAtMs: number;
  /** The namespace's sealed size when it came due: an anchor at or past it satisfies the due. */
  readonly sealedSize: number;
}

export interface SignedRoot {
  readonly statement: EpochStatement;
  readonly leaves: readonly EpochLeaf[];
  readonly sig: string;
  readonly signedAt: string;
}

export type EpochStatus = 'finalized' | 'abandoned' | 'empty';

export interface EpochRecord {
  readonly target: string;
  readonly epoch: number;
  readonly mode: EpochMode;
  /** '' for collaborative epochs, the anchoring node for independent ones. */
  readonly node: string;
  readonly status: EpochStatus;
  readonly finalization?: EpochFinalization;
  readonly updatedAtMs: number;
}

export interface AnchorFailure {
  readonly target: string;
  readonly epoch: number | null;
  readonly reason: string;
  readonly atMs: number;
}

/** A finalized epoch whose leaf for an origin covers an entry (anchorsCovering). */
export interface CoveringAnchor {
  target: string;
  epoch: number;
  mode: EpochMode;
  node: string;
  size: number;
}

/** What finalizing an epoch did: stored it, already had it, or kept a second anchor of its root. */
export type FinalizedOutcome = 'new' | 'same' | 'duplicate';

/** Failures kept per target (older ones are dropped; the counters keep the totals). */
export const FAILURES_KEPT = 100;

/** A failure's reason is cut to this many characters before it is stored. */
export const FAILURE_REASON_CHARS = 2000;

export interface EpochRow {
  target: string;
  epoch: number;
  mode: EpochMode;
  node: string;
  status: EpochStatus;
  finalization: string | null;
  updated_at: number;
}

export function toEpoch(r: EpochRow): EpochRecord {
  return {
    target: r.target,
    epoch: r.epoch,
    mode: r.mode,
    node: r.node,
    status: r.status,
    ...(r.finalization === null ? {} : { finalization: JSON.parse(r.finalization) as EpochFinalization }),
    updatedAtMs: r.updated_at,
  };
}

export interface SignedRootRow {
  statement: string;
  leaves: string;
  sig: string;
  signed_at: string;
}

export function toSignedRoot(r: SignedRootRow): SignedRoot {
  return {
    statement: JSON.parse(r.statement) as EpochStatement,
    leaves: JSON.parse(r.leaves) as EpochLeaf[],
    sig: r.sig,
    signedAt: r.signed_at,
  };
}

/** The columns a signed root is stored as (the statement canonical, so its bytes are the signed ones). */
export function signedRootColumns(root: SignedRoot): { root: string; statement: string; leaves: string } {
  return {
    root: root.statement.root,
    statement: canonicalize(root.statement),
    leaves: JSON.stringify(root.leaves),
  };
}

/** Largest size per origin over the stored leaf lists of in-flight signed roots (inFlightSizes). */
export function largestLeafSizes(leafLists: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const text of leafLists) {
    for (const leaf of JSON.parse(text) as EpochLeaf[])
      out.set(leaf.origin, Math.max(out.get(leaf.origin) ?? 0, leaf.size));
  }
  return out;
}

export interface DueRow {
  target: string;
  namespace: string;
  due_at_ms: number;
  sealed_size: number;
}

export function toDue(r: DueRow): DueNamespace {
  return { target: r.target, namespace: r.namespace, dueAtMs: r.due_at_ms, sealedSize: r.sealed_size };
}

export interface FailureRow {
  target: string;
  epoch: number | null;
  reason: string;
  at_ms: number;
}

export function toFailure(r: FailureRow): AnchorFailure {
  return { target: r.target, epoch: r.epoch, reason: r.reason, atMs: r.at_ms };
}

/** Counter rows (name, label, value) as name → label → value. */
export function countersOf(
  rows: readonly { name: string; label: string; value: number }[],
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const r of rows) {
    let m = out.get(r.name);
    if (m === undefined) out.set(r.name, (m = new Map<string, number>()));
    m.set(r.label, r.value);
  }
  return out;
}

/** Which evidence a finalization carries: two anchors of one root differ in it. */
function evidenceDigest(e: AnchorEvidence): string {
  return toHex(crypto.sha256(utf8Encode(canonicalize(e))));
}

/**
 * What a finalization of an epoch already finalized (`held`) is: the same anchor again ('same'),
 * or another anchor of the same root, to keep as a duplicate under its evidence digest. Another
 * root is EPOCH_CONFLICT: a finalized epoch is never replaced.
 */
export function againFinalized(held: EpochFinalization, f: EpochFinalization): 'same' | { digest: string } {
  const s = f.statement;
  if (held.statement.root !== s.root) {
    throw new RemembrancerError(
      'EPOCH_CONFLICT',
      `epoch ${s.epoch} at ${s.target} is finalized with root ${held.statement.root}, not ${s.root}`,
    );
  }
  const digest = evidenceDigest(f.evidence);
  return digest === evidenceDigest(held.evidence) ? 'same' : { digest };
}
