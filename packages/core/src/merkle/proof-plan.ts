import { RemembrancerError } from '../errors.js';
import { appendDecomposition, type SubtreeId } from './range-decomposition.js';
import { checkCount, splitPoint } from './tree-math.js';

/*
 * RFC 9162 proofs list MTH(D[a:b]) for a few ranges [a, b). The planners walk the recursive
 * definitions iteratively (at most 53 steps, no recursion) and turn every range into the perfect
 * subtrees that make it up, so storage can fetch all the hashes a proof needs in one query and fold
 * the ragged ones with hashRange.
 */

function element(begin: number, end: number): SubtreeId[] {
  const ids: SubtreeId[] = [];
  appendDecomposition(begin, end, ids);
  return ids;
}

/**
 * PATH(index, D[size]) of RFC 9162 §2.1.3.1, leaf side first: each element is the list of perfect
 * subtrees (left to right) whose hashRange is that proof element.
 */
export function inclusionProofPlan(index: number, size: number): SubtreeId[][] {
  checkCount('index', index);
  checkCount('size', size);
  if (index >= size) throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
  // Collected root side first, then reversed: PATH(m, D[n]) = PATH(m', D') : MTH(sibling).
  const plan: SubtreeId[][] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = splitPoint(hi - lo);
    if (index < lo + k) {
      plan.push(element(lo + k, hi));
      hi = lo + k;
    } else {
      plan.push(element(lo, lo + k));
      lo += k;
    }
  }
  return plan.reverse();
}

/**
 * PROOF(from, D[to]) = SUBPROOF(from, D[to], true) of RFC 9162 §2.1.4.1, in proof order. Equal
 * sizes give the empty proof; so does from = 0, the only proof a verifier accepts from the empty
 * tree (RFC 9162 defines proofs for 0 < from < to only).
 */
export function consistencyProofPlan(from: number, to: number): SubtreeId[][] {
  checkCount('from', from);
  checkCount('to', to);
  if (from > to)
    throw new RemembrancerError('INVALID_RANGE', `consistency proof from size ${from} to smaller size ${to}`);
  if (from === 0 || from === to) return [];
  // SUBPROOF(m, D[n], b) = SUBPROOF(...) : MTH(other half); collected outermost first.
  const outer: SubtreeId[][] = [];
  let lo = 0;
  let hi = to;
  let wholeSubtreeKnown = true; // the `b` flag: the old tree is exactly the current subtree's left edge
  while (from !== hi) {
    const k = splitPoint(hi - lo);
    if (from - lo <= k) {
      outer.push(element(lo + k, hi));
      hi = lo + k;
    } else {
      outer.push(element(lo, lo + k));
      lo += k;
      wholeSubtreeKnown = false;
    }
  }
  const plan: SubtreeId[][] = [];
  if (!wholeSubtreeKnown) plan.push(element(lo, hi));
  for (let i = outer.length - 1; i >= 0; i--) plan.push(outer[i]!);
  return plan;
}
