import { RemembrancerError } from '../errors.js';
import { EMPTY_ROOT, HASH_SIZE, nodeHash } from './hashing.js';
import type { SubtreeId } from './range-decomposition.js';
import { hashRange } from './range-hash.js';
import { checkCount, popCount } from './tree-math.js';

/**
 * The right frontier of a growing tree: the hashes of the perfect subtrees of
 * rangeDecomposition(0, size), left to right (one per set bit of size, largest first). That is all
 * an integrator needs to append leaves and compute roots; every subtree completed along the way is
 * reported so storage can keep it for proofs and tiles.
 */
export class CompactRange {
  #size: number;
  #hashes: Uint8Array[];

  constructor(size = 0, hashes: readonly Uint8Array[] = []) {
    checkCount('size', size);
    if (hashes.length !== popCount(size)) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `a compact range of size ${size} has ${popCount(size)} hashes, got ${hashes.length}`,
      );
    }
    for (const h of hashes) {
      if (!(h instanceof Uint8Array) || h.length !== HASH_SIZE) {
        throw new RemembrancerError('INVALID_ARGUMENT', `compact range hashes must be ${HASH_SIZE} bytes`);
      }
    }
    this.#size = size;
    this.#hashes = hashes.slice();
  }

  get size(): number {
    return this.#size;
  }

  get hashes(): readonly Uint8Array[] {
    return this.#hashes;
  }

  /**
   * Appends one leaf hash. onSubtree sees the leaf itself (level 0) and then every parent the leaf
   * completes, bottom up; a leaf completes one parent per trailing one bit of the old size.
   */
  append(leafHash: Uint8Array, onSubtree?: (id: SubtreeId, hash: Uint8Array) => void): void {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
      throw new RemembrancerError('INVALID_ARGUMENT', `leaf hash must be ${HASH_SIZE} bytes`);
    }
    if (this.#size >= Number.MAX_SAFE_INTEGER) throw new RemembrancerError('SIZE_OUT_OF_RANGE', 'tree is full');
    let index = this.#size;
    let level = 0;
    let hash = leafHash;
    onSubtree?.({ level, index }, hash);
    // Nothing is mutated until every callback has returned, so a failing store leaves the range intact.
    let top = this.#hashes.length;
    let s = this.#size;
    while (s % 2 === 1) {
      hash = nodeHash(this.#hashes[--top]!, hash);
      level++;
      index = (index - 1) / 2;
      s = (s - 1) / 2;
      onSubtree?.({ level, index }, hash);
    }
    this.#hashes.length = top;
    this.#hashes.push(hash);
    this.#size++;
  }

  /** MTH of the whole range; EMPTY_ROOT while empty. */
  root(): Uint8Array {
    return this.#size === 0 ? EMPTY_ROOT : hashRange(this.#hashes);
  }

  clone(): CompactRange {
    return new CompactRange(this.#size, this.#hashes);
  }
}
