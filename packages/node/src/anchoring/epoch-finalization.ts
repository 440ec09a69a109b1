import type { EpochLeaf, EpochStatement, FederationReceiptEvidence } from '@vaultmesh/core';

/** A signature over an epoch statement, as federation receipts list them. */
export interface EpochSignature {
  node: string;
  /** Base64 Ed25519 by the node's auth key over the statement's JCS bytes. */
  sig: string;
  role: 'leader' | 'signer';
  /** When the node signed (RFC 3339 UTC); informational, not covered by the signature. */
  timestamp: string;
}

/**
 * What the external target returned, as federation receipts carry it: RFC 3161 tokens over
 * SHA-256 of the statement's JCS bytes, or a chain transaction with its block proof.
 */
export type AnchorEvidence = FederationReceiptEvidence;

/** The receipt's `anchor` member (docs/anchoring.md says which token fields fill which). */
export interface AnchorFields {
  batch_root: string;
  target: string;
  tx_hash: string;
  block: string | null;
  timestamp: string;
}

/**
 * An anchored epoch: the quorum-signed statement, the leaves its root commits to, and the
 * target's evidence. The leader pushes it to every peer; each checks all of it before storing.
 */
export interface EpochFinalization {
  statement: EpochStatement;
  leaves: readonly EpochLeaf[];
  signatures: EpochSignature[];
  anchor: AnchorFields;
  evidence: AnchorEvidence;
  finalized_at: string;
  /** The node that anchored, and which leader attempt it was (0: the first leader). */
  leader: string;
  attempt: number;
}

/** `node` of an epoch's key: '' for collaborative epochs, the anchoring node for independent ones. */
export function epochNodeKey(statement: Pick<EpochStatement, 'mode' | 'node'>): string {
  return statement.mode === 'collaborative' ? '' : (statement.node ?? '');
}
