import { RemembrancerError } from '../errors.js';
import { CompactRange } from './compact-range.js';
import { leafHash } from './hashing.js';
import { consistencyProof, inclusionProof, rootAt, type SubtreeHashGetter } from './proof-generation.js';
import type { SubtreeId } from './range-decomposition.js';
import { checkCount } from './tree-math.js';

/**
 * A whole RFC 6962 tree in memory: every perfect subtree hash, by level. For tests, tools and small
 * trees; durable logs keep the same subtrees in storage and use the same proof functions.
 */
export class MemoryTree {
  readonly #range = new CompactRange();
  // #levels[l][i] is the hash of SubtreeId { level: l, index: i }; subtrees complete in order.
  readonly #levels: Uint8Array[][] = [];
  readonly #store = (id: SubtreeId, hash: Uint8Array): void => {
    let level = this.#levels[id.level];
    if (level === undefined) {
      level = [];
      this.#levels[id.level] = level;
    }
    level.push(hash);
  };
  readonly #get: SubtreeHashGetter = (id) => this.subtreeHash(id);

  get size(): number {
    return this.#range.size;
  }

  /** Appends an entry's leaf data; returns its index. */
  append(data: Uint8Array): number {
    return this.appendLeafHash(leafHash(data));
  }

  /** Appends a precomputed leaf hash; returns its index. */
  appendLeafHash(hash: Uint8Array): number {
    const index = this.#range.size;
    this.#range.append(hash, this.#store);
    return index;
  }

  root(): Uint8Array {
    return this.#range.root();
  }

  rootAt(size: number): Uint8Array {
    this.#checkSize(size);
    return rootAt(size, this.#get);
  }

  inclusionProof(index: number, size: number): Uint8Array[] {
    this.#checkSize(size);
    return inclusionProof(index, size, this.#get);
  }

  consistencyProof(from: number, to: number): Uint8Array[] {
    this.#checkSize(to);
    return consistencyProof(from, to, this.#get);
  }

  /** Hash of a perfect subtree that is complete in the current tree. */
  subtreeHash(id: SubtreeId): Uint8Array {
    checkCount('level', id.level);
    checkCount('index', id.index);
    const hash = this.#levels[id.level]?.[id.index];
    if (hash === undefined) {
      throw new RemembrancerError(
        'INDEX_OUT_OF_RANGE',
        `subtree (level ${id.level}, index ${id.index}) is not complete in a tree of size ${this.size}`,
      );
    }
    return hash;
  }

  #checkSize(size: number): void {
    checkCount('size', size);
    if (size > this.#range.size) {
      throw new RemembrancerError('SIZE_OUT_OF_RANGE', `size ${size} exceeds the tree size ${this.#range.size}`);
    }
  }
}
