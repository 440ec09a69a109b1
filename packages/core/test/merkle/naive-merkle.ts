// Literal transcriptions of the recursive definitions of RFC 9162 §2.1.1, §2.1.3.1 and §2.1.4.1,
// as an independent oracle for the iterative planners. Inputs are leaf hashes D[lo:hi].
import { EMPTY_ROOT, nodeHash } from '../../src/index.js';

/** Largest power of two strictly smaller than n (n > 1). */
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}

export function naiveMth(leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array {
  const n = hi - lo;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[lo]!;
  const split = lo + k(n);
  return nodeHash(naiveMth(leaves, lo, split), naiveMth(leaves, split, hi));
}

export function naivePath(m: number, leaves: readonly Uint8Array[], lo = 0, hi = leaves.length): Uint8Array[] {
  const n = hi - lo;
  if (n <= 1) return [];
  const split = lo + k(n);
  if (m < k(n)) return [...naivePath(m, leaves, lo, split), naiveMth(leaves, split, hi)];
  return [...naivePath(m - k(n), leaves, split, hi), naiveMth(leaves, lo, split)];
}

function subproof(m: number, leaves: readonly Uint8Array[], lo: number, hi: number, b: boolean): Uint8Array[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [naiveMth(leaves, lo, hi)];
  const split = lo + k(n);
  if (m <= k(n)) return [...subproof(m, leaves, lo, split, b), naiveMth(leaves, split, hi)];
  return [...subproof(m - k(n), leaves, split, hi, false), naiveMth(leaves, lo, split)];
}

export function naiveConsistency(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  return subproof(m, leaves, 0, leaves.length, true);
}

/** The same recursions over ranges instead of hashes, with BigInt so any size up to 2^64 works. */
export type Range = readonly [bigint, bigint];

function kBig(n: bigint): bigint {
  let p = 1n;
  while (p * 2n < n) p *= 2n;
  return p;
}

export function naivePathRanges(m: bigint, lo: bigint, hi: bigint): Range[] {
  const n = hi - lo;
  if (n <= 1n) return [];
  const kk = kBig(n);
  if (m < kk) return [...naivePathRanges(m, lo, lo + kk), [lo + kk, hi]];
  return [...naivePathRanges(m - kk, lo + kk, hi), [lo, lo + kk]];
}

export function naiveConsistencyRanges(m: bigint, lo: bigint, hi: bigint, b = true): Range[] {
  const n = hi - lo;
  if (m === n) return b ? [] : [[lo, hi]];
  const kk = kBig(n);
  if (m <= kk) return [...naiveConsistencyRanges(m, lo, lo + kk, b), [lo + kk, hi]];
  return [...naiveConsistencyRanges(m - kk, lo + kk, hi, false), [lo, lo + kk]];
}
