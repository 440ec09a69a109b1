import { createHash } from 'node:crypto';
import type { BatchHasher } from './batch-hasher.js';

/**
 * An RFC 6962 tree over n leaf hashes, computed a level at a time.
 *
 * levels[k] packs the hashes of the floor(n / 2^k) perfect subtrees of height k, left to right
 * (levels[0] is the leaves): exactly the node hashes C2SP tlog-tiles stores. The ragged right
 * edge of MTH (RFC 6962 §2.1, https://www.rfc-editor.org/rfc/rfc6962#section-2.1) is made of the
 * perfect subtrees named by the set bits of n, so the root folds those, smallest first, with
 * SHA-256(0x01 ‖ left ‖ right). The same structure is the "promote the odd node" level build.
 */
export interface TreeLevels {
  readonly size: number;
  readonly root: Uint8Array;
  readonly levels: readonly Uint8Array[];
}

/** MTH({}) = SHA-256 of the empty string. */
export const EMPTY_TREE_ROOT: Uint8Array = new Uint8Array(createHash('sha256').digest());

export function buildTreeLevels(leafHashesPacked: Uint8Array, hasher: BatchHasher): TreeLevels {
  const levels: Uint8Array[] = [];
  const root = buildTree(leafHashesPacked, hasher, levels);
  return { size: leafHashesPacked.length / 32, root, levels };
}

/** The root only; each level is dropped once the next one is built. */
export function treeRootPacked(leafHashesPacked: Uint8Array, hasher: BatchHasher): Uint8Array {
  return buildTree(leafHashesPacked, hasher, undefined);
}

function buildTree(leaves: Uint8Array, hasher: BatchHasher, keep: Uint8Array[] | undefined): Uint8Array {
  if (!(leaves instanceof Uint8Array) || leaves.length % 32 !== 0) {
    throw new RangeError('leaf hashes must be a Uint8Array of n × 32 bytes');
  }
  const n = leaves.length / 32;
  if (n === 0) {
    return EMPTY_TREE_ROOT.slice();
  }
  // The right-edge subtree of each level (when that bit of n is set), smallest first.
  const edge: Uint8Array[] = [];
  let level = leaves;
  for (;;) {
    keep?.push(level);
    const count = level.length / 32;
    if (count % 2 === 1) edge.push(level.slice(level.length - 32));
    if (count < 2) break;
    level = hasher.nodeHashesPacked(level.subarray(0, (count - (count % 2)) * 32));
  }
  let root = edge[0]!;
  for (let i = 1; i < edge.length; i++) {
    const pair = new Uint8Array(64);
    pair.set(edge[i]!, 0);
    pair.set(root, 32);
    root = hasher.nodeHashesPacked(pair);
  }
  return root;
}
