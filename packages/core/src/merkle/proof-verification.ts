import { RemembrancerError, isRemembrancerError } from '../errors.js';
import { bytesEqual } from '../encoding/bytes.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hashing.js';
import { bitLength, checkCount, isPowerOfTwo, popCount, shiftRight, trailingZeros, xor } from './tree-math.js';

/*
 * Strict RFC 9162 proof verification. Everything here is attacker-controlled (sizes, indices,
 * hashes and proofs arrive in receipts and over the network), so counts and lengths are checked
 * before any hashing: a proof with one element too many or too few is rejected as malformed even
 * if the extra element would not change the result.
 */

function malformed(message: string): never {
  throw new RemembrancerError('PROOF_MALFORMED', message);
}

function checkHash(name: string, h: unknown): void {
  if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
    malformed(`${name} must be a ${HASH_SIZE}-byte hash`);
  }
}

function checkProof(proof: unknown, expected: number): asserts proof is readonly Uint8Array[] {
  if (!Array.isArray(proof)) malformed('proof must be an array of hashes');
  if (proof.length !== expected) malformed(`proof has ${proof.length} elements, expected ${expected}`);
  for (let i = 0; i < proof.length; i++) checkHash(`proof[${i}]`, proof[i]);
}

/** floor(x / 2) for safe integers (the `>>` of the RFC pseudo-code, which JS limits to 32 bits). */
function half(x: number): number {
  return x < 2147483648 ? x >>> 1 : Math.floor(x / 2);
}

/**
 * The root that `proof` yields for `leafHash` at `index` in a tree of `size` leaves
 * (https://www.rfc-editor.org/rfc/rfc9162#section-2.1.3.2). Throws INDEX_OUT_OF_RANGE if
 * index >= size and PROOF_MALFORMED for a wrong element count or hash length.
 */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
): Uint8Array {
  checkCount('index', index);
  checkCount('size', size);
  if (index >= size) throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
  checkHash('leaf hash', leafHash);
  // The path has one element per level below the point where index and the last leaf diverge
  // (inner), plus one per left sibling on the way up the right border.
  const inner = bitLength(xor(index, size - 1));
  checkProof(proof, inner + popCount(shiftRight(index, inner)));

  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (let i = 0; i < proof.length; i++) {
    const p = proof[i]!;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  // Unreachable with the count check above; kept as the RFC's own completeness condition.
  if (sn !== 0) malformed('proof does not reach the root');
  return r;
}

/** Throws unless `proof` shows that `leafHash` is leaf `index` of the tree of `size` leaves with `root`. */
export function verifyInclusion(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): void {
  const computed = rootFromInclusionProof(index, size, leafHash, proof);
  checkHash('root', root);
  if (!bytesEqual(computed, root))
    throw new RemembrancerError('PROOF_MISMATCH', 'inclusion proof does not lead to the root');
}

/**
 * Throws unless `proof` shows that the tree of size2 with root2 extends the tree of size1 with root1
 * (https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2).
 *
 * RFC 9162 defines proofs for 0 < size1 < size2 only. Equal sizes need the empty proof and equal
 * roots. From the empty tree the proof is empty too (any tree extends it), but root1 must then be
 * the empty tree's root and root2 a well-formed hash, so a claim about size 0 cannot carry an
 * arbitrary root.
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): void {
  checkCount('size1', size1);
  checkCount('size2', size2);
  if (size1 > size2) throw new RemembrancerError('INVALID_RANGE', `size1 ${size1} is greater than size2 ${size2}`);
  if (size1 === size2) {
    checkProof(proof, 0);
    if (size1 === 0 && !(root1 instanceof Uint8Array && bytesEqual(root1, EMPTY_ROOT))) {
      throw new RemembrancerError('PROOF_MISMATCH', 'root of the empty tree must be SHA-256 of the empty string');
    }
    if (!(root1 instanceof Uint8Array && root2 instanceof Uint8Array && bytesEqual(root1, root2))) {
      throw new RemembrancerError('PROOF_MISMATCH', 'roots of equal-sized trees differ');
    }
    return;
  }
  if (size1 === 0) {
    checkProof(proof, 0);
    if (!(root1 instanceof Uint8Array && bytesEqual(root1, EMPTY_ROOT))) {
      throw new RemembrancerError('PROOF_MISMATCH', 'root of the empty tree must be SHA-256 of the empty string');
    }
    checkHash('root2', root2);
    return;
  }
  checkHash('root1', root1);
  checkHash('root2', root2);
  // The proof is the inclusion path of leaf size1-1 in size2 without its lowest `shift` levels
  // (they are inside the old tree's last perfect subtree), led by that subtree's hash unless it is
  // the whole old tree, whose root the verifier already has.
  const last = size1 - 1;
  const inner = bitLength(xor(last, size2 - 1));
  const shift = trailingZeros(size1);
  const seeded = isPowerOfTwo(size1);
  checkProof(proof, inner - shift + popCount(shiftRight(last, inner)) + (seeded ? 0 : 1));

  let fn = last;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let i = 0;
  const first = seeded ? root1 : proof[i++]!;
  let fr = first;
  let sr = first;
  for (; i < proof.length; i++) {
    const c = proof[i]!;
    if (sn === 0) malformed('proof has too many elements');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) malformed('proof does not reach the new root');
  if (!bytesEqual(fr, root1))
    throw new RemembrancerError('PROOF_MISMATCH', 'consistency proof does not lead to the old root');
  if (!bytesEqual(sr, root2))
    throw new RemembrancerError('PROOF_MISMATCH', 'consistency proof does not lead to the new root');
}

/** verifyInclusion as a predicate: false for any proof failure; programming errors still throw. */
export function isInclusionValid(
  index: number,
  size: number,
  leafHash: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  try {
    verifyInclusion(index, size, leafHash, proof, root);
    return true;
  } catch (e) {
    if (isRemembrancerError(e)) return false;
    throw e;
  }
}

/** verifyConsistency as a predicate: false for any proof failure; programming errors still throw. */
export function isConsistencyValid(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): boolean {
  try {
    verifyConsistency(size1, size2, proof, root1, root2);
    return true;
  } catch (e) {
    if (isRemembrancerError(e)) return false;
    throw e;
  }
}
