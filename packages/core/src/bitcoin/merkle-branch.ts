import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';

// Deeper than any block can be: 2^32 transactions would take far more than the 4 MB weight limit,
// so a longer branch is refused before it is hashed.
export const MAX_BITCOIN_BRANCH_LENGTH = 32;

const HASH_BYTES = 32;

/**
 * An interior node of Bitcoin's transaction tree: the double SHA-256 of the two children
 * concatenated. Unlike RFC 6962 there is no leaf/node domain separation, which is why a verifier
 * must know that what it hashes up from is a real transaction (see verifyBitcoinAnchor).
 */
function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return crypto.sha256(crypto.sha256Parts([left, right]));
}

function checkHashes(txids: readonly Uint8Array[]): void {
  if (txids.length === 0) throw new RemembrancerError('INVALID_ARGUMENT', 'a block has at least one transaction');
  for (const h of txids) {
    if (!(h instanceof Uint8Array) || h.length !== HASH_BYTES) {
      throw new RemembrancerError('INVALID_ARGUMENT', `a txid is ${HASH_BYTES} bytes`);
    }
  }
}

/** The level above: pairs hashed together, an odd last element paired with itself. */
function levelUp(level: readonly Uint8Array[]): Uint8Array[] {
  const up: Uint8Array[] = [];
  for (let i = 0; i < level.length; i += 2) {
    const left = level[i]!;
    up.push(nodeHash(left, level[i + 1] ?? left));
  }
  return up;
}

/** The Merkle root of a block's txids (internal order, in block order): a lone txid is its own root. */
export function bitcoinMerkleRoot(txids: readonly Uint8Array[]): Uint8Array {
  checkHashes(txids);
  let level = [...txids];
  while (level.length > 1) level = levelUp(level);
  return level[0]!.slice();
}

/**
 * The branch for the txid at `index`: one sibling per level from the leaves up (the node itself
 * where it is the odd last element of its level), as rootFromBranch consumes it.
 */
export function bitcoinMerkleBranch(txids: readonly Uint8Array[], index: number): Uint8Array[] {
  checkHashes(txids);
  if (!Number.isSafeInteger(index) || index < 0 || index >= txids.length) {
    throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below ${txids.length} transactions`);
  }
  const branch: Uint8Array[] = [];
  let level = [...txids];
  let i = index;
  while (level.length > 1) {
    const self = level[i]!;
    branch.push((level[i ^ 1] ?? self).slice());
    level = levelUp(level);
    i = Math.floor(i / 2);
  }
  return branch;
}

/**
 * The root a branch leads to from `txid` at position `index`: at level i the sibling is on the
 * left when bit i of index is 1. Refused (BITCOIN_PROOF_INVALID): a branch longer than
 * MAX_BITCOIN_BRANCH_LENGTH, hashes not 32 bytes, an index that is not an integer in
 * [0, 2^branch length), so that one (txid, index, branch) names one position.
 */
export function bitcoinRootFromBranch(txid: Uint8Array, index: number, siblings: readonly Uint8Array[]): Uint8Array {
  const invalid = (message: string) => new RemembrancerError('BITCOIN_PROOF_INVALID', message);
  if (siblings.length > MAX_BITCOIN_BRANCH_LENGTH) {
    throw invalid(`a branch has at most ${MAX_BITCOIN_BRANCH_LENGTH} hashes, got ${siblings.length}`);
  }
  if (!(txid instanceof Uint8Array) || txid.length !== HASH_BYTES) throw invalid(`a txid is ${HASH_BYTES} bytes`);
  if (!Number.isSafeInteger(index) || index < 0 || index >= 2 ** siblings.length) {
    throw invalid(`index ${index} is out of range for a branch of ${siblings.length} hashes`);
  }
  let h = txid;
  let rest = index;
  for (const [level, sibling] of siblings.entries()) {
    if (!(sibling instanceof Uint8Array) || sibling.length !== HASH_BYTES) {
      throw invalid(`branch hash ${level} is not ${HASH_BYTES} bytes`);
    }
    // Arithmetic, not bit operators: those are 32-bit signed and the index may reach 2^32 - 1.
    h = rest % 2 === 1 ? nodeHash(sibling, h) : nodeHash(h, sibling);
    rest = Math.floor(rest / 2);
  }
  return h.slice();
}
