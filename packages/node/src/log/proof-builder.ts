import { EMPTY_ROOT, hashRange, nodeHash, rangeDecomposition, type SubtreeId } from '@vaultmesh/core';
import { missingHash } from './tile-store.js';

/** Reads a perfect subtree hash (a view; copy before handing out), undefined if not stored. */
export type HashReader = (level: number, index: number) => Uint8Array | undefined;

/**
 * The right edge of the tree at one size: the perfect subtrees of [0, size) and, for each i, the
 * hash of [start of subtree i, size). Every non-perfect node an RFC 9162 proof or root needs at
 * that size is such a suffix (the ragged nodes all end at the tree's right edge), so with this
 * table a proof is pure lookups: no hashing per request.
 */
export interface EdgeFolds {
  ids: SubtreeId[];
  folds: Uint8Array[];
}

export function computeEdgeFolds(size: number, hashes: readonly Uint8Array[] | undefined, read: HashReader): EdgeFolds {
  const ids = rangeDecomposition(0, size);
  const m = ids.length;
  const folds = new Array<Uint8Array>(m);
  const hashAt = (i: number): Uint8Array => {
    if (hashes !== undefined) return hashes[i]!;
    const id = ids[i]!;
    const h = read(id.level, id.index);
    if (h === undefined) throw missingHash(id.level, id.index);
    return h;
  };
  for (let i = m - 1; i >= 0; i--) folds[i] = i === m - 1 ? hashAt(i).slice() : nodeHash(hashAt(i), folds[i + 1]!);
  return { ids, folds };
}

export function rootFromEdge(edge: EdgeFolds): Uint8Array {
  return edge.folds.length === 0 ? EMPTY_ROOT : edge.folds[0]!;
}

/**
 * Turns a proof plan (core's inclusionProofPlan / consistencyProofPlan at tree size `size`) into
 * hashes. Single perfect subtrees come from the tile store; ragged elements from the edge table,
 * falling back to hashing only if an element is not a suffix of the edge (never for RFC 9162
 * plans, but the fallback keeps this correct for any plan).
 */
export function hashPlan(plan: readonly (readonly SubtreeId[])[], read: HashReader, edge: () => EdgeFolds): Uint8Array[] {
  const out = new Array<Uint8Array>(plan.length);
  const get = (id: SubtreeId): Uint8Array => {
    const h = read(id.level, id.index);
    if (h === undefined) throw missingHash(id.level, id.index);
    return h;
  };
  for (let p = 0; p < plan.length; p++) {
    const ids = plan[p]!;
    if (ids.length === 1) {
      out[p] = get(ids[0]!).slice();
      continue;
    }
    const e = edge();
    const i = e.ids.length - ids.length;
    const first = e.ids[i];
    if (i >= 0 && first !== undefined && first.level === ids[0]!.level && first.index === ids[0]!.index) {
      out[p] = e.folds[i]!.slice();
    } else {
      out[p] = hashRange(ids.map(get));
    }
  }
  return out;
}
