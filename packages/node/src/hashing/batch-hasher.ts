/**
 * Many SHA-256 hashes per call. A one-shot `node:crypto` hash costs ~2 µs here, almost all of it
 * the JS ↔ C++ crossing, so building a tree one hash per call tops out near 250k leaves/s; the
 * batch forms below cross once per tree level and let native code hash the level in SIMD lanes.
 *
 * Hashes follow RFC 6962 §2.1 (https://www.rfc-editor.org/rfc/rfc6962#section-2.1):
 * leaf = SHA-256(0x00 ‖ data), interior node = SHA-256(0x01 ‖ left ‖ right).
 */
export interface BatchHasher {
  /** `native`: the sha256_batch addon; `js`: node:crypto one hash per call, same results. */
  readonly kind: 'native' | 'js';
  /** Which code path does the hashing, e.g. `avx512`, `avx2`, `scalar` or `node:crypto`. */
  readonly implementation: string;
  /**
   * Leaf hashes of separate entries. The results are 32-byte views into one shared buffer, so
   * holding any one of them keeps the whole batch's output alive.
   */
  leafHashes(datas: readonly Uint8Array[]): Uint8Array[];
  /**
   * Leaf hashes of the n entries `data[offsets[i] .. offsets[i+1])`, packed as n × 32 bytes.
   * `offsets` holds n + 1 non-decreasing values; `offsets[0]` need not be 0.
   */
  leafHashesPacked(data: Uint8Array, offsets: Uint32Array): Uint8Array;
  /** `children` holds 2n hashes (n left/right pairs); returns the n parent hashes packed. */
  nodeHashesPacked(children: Uint8Array): Uint8Array;
}

export const HASH_BYTES = 32;

/**
 * What the log engine needs of a hasher: leaf hashes for a batch, and (when offered) interior
 * nodes one tree level per call. Tests inject counting or failing hashers of this shape.
 */
export type EngineBatchHasher = Pick<BatchHasher, 'leafHashes'> & Partial<Pick<BatchHasher, 'nodeHashesPacked'>>;
