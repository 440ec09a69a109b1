import { RemembrancerError } from '../errors.js';
import { POW2, bitLength, checkCount, trailingZeros } from './tree-math.js';

/** The perfect subtree covering leaves [index·2^level, (index+1)·2^level). */
export interface SubtreeId {
  level: number;
  index: number;
}

/**
 * The perfect subtrees that make up [begin, end), left to right: the compact range decomposition
 * (sizes first grow, then shrink). Greedy from the left works because each step takes the largest
 * subtree that is both aligned at `begin` and fits before `end`.
 */
export function rangeDecomposition(begin: number, end: number): SubtreeId[] {
  checkCount('begin', begin);
  checkCount('end', end);
  if (begin > end) throw new RemembrancerError('INVALID_RANGE', `range [${begin}, ${end}) is reversed`);
  const out: SubtreeId[] = [];
  appendDecomposition(begin, end, out);
  return out;
}

/** Unchecked core of rangeDecomposition, shared with the proof planners. */
export function appendDecomposition(begin: number, end: number, out: SubtreeId[]): void {
  while (begin < end) {
    let level = bitLength(end - begin) - 1;
    if (begin !== 0) level = Math.min(level, trailingZeros(begin));
    const width = POW2[level]!;
    out.push({ level, index: begin / width });
    begin += width;
  }
}
