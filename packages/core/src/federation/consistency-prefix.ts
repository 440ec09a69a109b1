import { isArray } from '../jcs/index.js';
import { HASH_SIZE, nodeHash } from '../merkle/hashing.js';

function isPowerOfTwo(x: number): boolean {
  while (x > 1 && x % 2 === 0) x /= 2;
  return x === 1;
}

/**
 * The root of the first `size1` leaves that an RFC 9162 consistency proof from `size1` to `size2`
 * commits to (the "fr" of https://www.rfc-editor.org/rfc/rfc9162#section-2.1.4.2), or undefined if
 * the proof cannot carry it: when size1 is a power of two the old tree is one subtree of the new
 * one and the verifier is expected to know its hash. The result means nothing on its own; callers
 * must confirm it with verifyConsistency against the new root, which also rejects malformed proofs.
 * `proof` is attacker-controlled.
 */
export function prefixRootFromConsistencyProof(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
): Uint8Array | undefined {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2) || size1 <= 0 || size1 >= size2) return undefined;
  if (isPowerOfTwo(size1) || !isArray(proof) || proof.length === 0) return undefined;
  if (!proof.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE)) return undefined;
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = proof[0]!;
  for (let i = 1; i < proof.length; i++) {
    if (sn === 0) return undefined;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(proof[i]!, fr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr;
}
