import { RemembrancerError } from '../errors.js';
import { base64Encode } from '../encoding/index.js';
import { MemoryTree } from '../merkle/index.js';
import { compareEpochLeaves, epochLeafData, parseEpochLeaf, type EpochLeaf } from './epoch-leaf.js';

/** The RFC 6962 tree of one epoch's leaves, in their deterministic order. */
export interface EpochTree {
  /** The leaves, sorted by compareEpochLeaves: leaf i of the tree is leaves[i]. */
  readonly leaves: EpochLeaf[];
  readonly size: number;
  readonly root: Uint8Array;
  /** Standard base64 of `root`, as epoch statements and receipts carry it. */
  readonly rootBase64: string;
  /** The RFC 9162 §2.1.3 inclusion proof of leaf `index` in the whole tree. */
  inclusionProof(index: number): Uint8Array[];
  /** The index of the leaf of `origin`, or -1 when the epoch has none. */
  indexOfOrigin(origin: string): number;
}

/**
 * Builds the epoch tree over `leaves` in any order: leaf data is epochLeafData, leaves are sorted
 * by origin then size, so every node that gathers the same checkpoints computes the same root. At
 * most one leaf per origin (a log's newer sealed checkpoint covers its older ones); throws
 * EPOCH_LEAF_INVALID for a malformed or repeated origin, INVALID_ARGUMENT for no leaves (an epoch
 * with nothing sealed anchors nothing).
 */
export function buildEpochTree(leaves: readonly EpochLeaf[]): EpochTree {
  if (!Array.isArray(leaves) || leaves.length === 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'an epoch tree needs at least one leaf');
  }
  const sorted = leaves.map((l) => parseEpochLeaf(l)).sort(compareEpochLeaves);
  const tree = new MemoryTree();
  const index = new Map<string, number>();
  for (const leaf of sorted) {
    if (index.has(leaf.origin)) {
      throw new RemembrancerError(
        'EPOCH_LEAF_INVALID',
        `epoch leaf of ${JSON.stringify(leaf.origin)}: listed twice; an epoch holds one checkpoint per origin`,
      );
    }
    index.set(leaf.origin, tree.append(epochLeafData(leaf)));
  }
  const size = tree.size;
  const root = tree.root();
  return {
    leaves: sorted,
    size,
    root,
    rootBase64: base64Encode(root),
    inclusionProof: (i) => tree.inclusionProof(i, size),
    indexOfOrigin: (origin) => index.get(origin) ?? -1,
  };
}
