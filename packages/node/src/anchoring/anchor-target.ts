import type { EpochStatement } from '@vaultmesh/core';
import type { AnchorTargetConfig } from '../config/anchoring-config.js';
import type { ChainJournalStorage } from './chain/chain-journal-storage.js';
import type { AnchorEvidence, AnchorFields } from './epoch-finalization.js';

/** What a target needs from the coordinator while it anchors one statement. */
export interface AnchorContext {
  /** Chain transactions are journaled here (AnchorStorage.chain). */
  readonly journal: ChainJournalStorage;
  /** True once the node is stopping: a target waiting on a chain stops waiting (and resumes later). */
  readonly stopping: () => boolean;
  readonly now: () => number;
}

/** One anchor of an epoch root: the receipt's anchor fields, the evidence, and the requests it took. */
export interface AnchorResult {
  readonly anchor: AnchorFields;
  readonly evidence: AnchorEvidence;
  /** Requests to the target: TSA requests, or chain transactions broadcast. */
  readonly requests: number;
}

/** An anchor target as the coordinator uses it: its settings and a way to anchor a statement. */
export interface AnchorTarget {
  readonly config: AnchorTargetConfig;
  /** Anchors a quorum-signed statement; throws ANCHOR_TARGET_FAILED (or a chain error) when it cannot. */
  anchor(statement: EpochStatement, context: AnchorContext): Promise<AnchorResult>;
  /**
   * Chain targets: how many blocks deep `blockHash` (at `height`) is on this node's own view of the
   * chain, 0 when it is not on the best chain. A finalized epoch from a peer is checked with it.
   */
  confirmations?(blockHash: string, height: number): Promise<number>;
  /** Releases connections. */
  close?(): Promise<void>;
}
