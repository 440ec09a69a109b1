export * from './hashing.js';
export { rangeDecomposition, type SubtreeId } from './range-decomposition.js';
export { hashRange } from './range-hash.js';
export { consistencyProofPlan, inclusionProofPlan } from './proof-plan.js';
export { consistencyProof, inclusionProof, rootAt, type SubtreeHashGetter } from './proof-generation.js';
export {
  isConsistencyValid,
  isInclusionValid,
  rootFromInclusionProof,
  verifyConsistency,
  verifyInclusion,
} from './proof-verification.js';
export { CompactRange } from './compact-range.js';
export { MemoryTree } from './memory-tree.js';
