import { EMPTY_ROOT, nodeHash } from './hashing.js';

/**
 * Folds the perfect-subtree hashes of a contiguous range (left to right, as rangeDecomposition
 * returns them) right to left with nodeHash. For a range that lies inside one aligned subtree — the
 * ragged right edge of a tree, which is every non-perfect node RFC 9162 proofs contain — this is
 * exactly MTH of the range (RFC 9162 §2.1.1): its left part is always the largest power of two.
 * The empty range hashes to MTH({}) = EMPTY_ROOT.
 */
export function hashRange(hashes: readonly Uint8Array[]): Uint8Array {
  const n = hashes.length;
  if (n === 0) return EMPTY_ROOT;
  let acc = hashes[n - 1]!;
  for (let i = n - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}
