import { EMPTY_ROOT } from './hashing.js';
import { consistencyProofPlan, inclusionProofPlan } from './proof-plan.js';
import { appendDecomposition, type SubtreeId } from './range-decomposition.js';
import { hashRange } from './range-hash.js';
import { checkCount } from './tree-math.js';

/** Returns the hash of a perfect subtree that storage holds (throw if it does not). */
export type SubtreeHashGetter = (id: SubtreeId) => Uint8Array;

function hashElement(ids: readonly SubtreeId[], get: SubtreeHashGetter): Uint8Array {
  if (ids.length === 1) return get(ids[0]!);
  const hashes: Uint8Array[] = new Array<Uint8Array>(ids.length);
  for (let i = 0; i < ids.length; i++) hashes[i] = get(ids[i]!);
  return hashRange(hashes);
}

function hashPlan(plan: readonly (readonly SubtreeId[])[], get: SubtreeHashGetter): Uint8Array[] {
  const out: Uint8Array[] = new Array<Uint8Array>(plan.length);
  for (let i = 0; i < plan.length; i++) out[i] = hashElement(plan[i]!, get);
  return out;
}

/** MTH(D[0:size]) from stored perfect-subtree hashes; EMPTY_ROOT for the empty tree. */
export function rootAt(size: number, get: SubtreeHashGetter): Uint8Array {
  checkCount('size', size);
  if (size === 0) return EMPTY_ROOT;
  const ids: SubtreeId[] = [];
  appendDecomposition(0, size, ids);
  return hashElement(ids, get);
}

/** RFC 9162 §2.1.3.1 inclusion proof of leaf `index` in the tree of `size` leaves. */
export function inclusionProof(index: number, size: number, get: SubtreeHashGetter): Uint8Array[] {
  return hashPlan(inclusionProofPlan(index, size), get);
}

/** RFC 9162 §2.1.4.1 consistency proof from size `from` to size `to` (empty if equal or from = 0). */
export function consistencyProof(from: number, to: number, get: SubtreeHashGetter): Uint8Array[] {
  return hashPlan(consistencyProofPlan(from, to), get);
}
