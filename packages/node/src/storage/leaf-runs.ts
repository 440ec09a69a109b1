import { HASH_SIZE, RemembrancerError, TILE_WIDTH } from '@vaultmesh/core';

/*
 * The leaf-hash index as sorted runs, one per chunk of LEAF_CHUNK entries. A per-entry B-tree
 * keyed by hash takes every insert at a random page: each group commit then rewrites pages all
 * over the index, and the cost per append grows with the log (measured: half the append rate
 * at 500,000 entries). A run is written once, when its chunk of entries is complete, in key
 * order; the entries after the last complete chunk need no index at all: their leaf hashes are
 * the level-0 tiles of that chunk, which a search scans.
 *
 * A run is split by the first byte of the leaf hash into 256 buckets. A bucket's row holds
 * records of RECORD_BYTES: hash bytes 1..5 and the entry's offset in the chunk (16-bit
 * big-endian), sorted by bytes 1..4 then offset. The key is thus the hash's first 48 bits;
 * distinct hashes share one about once in 2^48 pairs, so a record is a candidate that the reader
 * checks against the tree.
 */

/** Entries per run: the leaves under one level-1 tile (256 level-0 tiles). */
export const LEAF_CHUNK = TILE_WIDTH * TILE_WIDTH;
/** Level-0 tiles per run. */
export const LEAF_CHUNK_TILES = TILE_WIDTH;
/** Bytes of one record: 5 bytes of the key after the bucket byte, 2 of the offset. */
const KEY_BYTES = 5;
const RECORD_BYTES = KEY_BYTES + 2;
/** Key bytes records are sorted by (then by offset): bytes 1..4, so a record sorts as one exact number. */
const SORTED_KEY_BYTES = 4;

export interface LeafRunBucket {
  bucket: number;
  records: Uint8Array;
}

/** The 256 bucket rows of a run, from the packed leaf hashes of its LEAF_CHUNK entries. */
export function buildLeafRun(leafHashes: Uint8Array): LeafRunBucket[] {
  if (leafHashes.length !== LEAF_CHUNK * HASH_SIZE) {
    throw new RemembrancerError('STORAGE_FAILURE', `a leaf run needs ${LEAF_CHUNK} leaf hashes`);
  }
  const h = leafHashes;
  // Grouped by bucket (counting sort), then each bucket sorted as numbers: hash bytes 1..4 and
  // the offset make 48 bits, exact in a double, so a typed-array sort without a comparator orders
  // records by (bytes 1..4, offset). Once per 65,536 appends, this is most of the index's cost.
  const starts = new Uint32Array(257);
  for (let i = 0; i < LEAF_CHUNK; i++) starts[h[i * HASH_SIZE]! + 1]!++;
  for (let b = 0; b < 256; b++) starts[b + 1]! += starts[b]!;
  const fill = starts.slice(0, 256);
  const sorted = new Float64Array(LEAF_CHUNK);
  for (let i = 0; i < LEAF_CHUNK; i++) {
    const o = i * HASH_SIZE;
    const key = ((h[o + 1]! << 24) | (h[o + 2]! << 16) | (h[o + 3]! << 8) | h[o + 4]!) >>> 0;
    sorted[fill[h[o]!]!++] = key * LEAF_CHUNK + i;
  }
  const out: LeafRunBucket[] = [];
  for (let bucket = 0; bucket < 256; bucket++) {
    const run = sorted.subarray(starts[bucket], starts[bucket + 1]).sort();
    const records = new Uint8Array(run.length * RECORD_BYTES);
    for (let r = 0; r < run.length; r++) {
      const offset = run[r]! % LEAF_CHUNK;
      const at = offset * HASH_SIZE + 1;
      records.set(h.subarray(at, at + KEY_BYTES), r * RECORD_BYTES);
      records[r * RECORD_BYTES + KEY_BYTES] = offset >>> 8;
      records[r * RECORD_BYTES + KEY_BYTES + 1] = offset & 0xff;
    }
    out.push({ bucket, records });
  }
  return out;
}

/** Compares the first `n` key bytes of record `r` with bytes 1.. of the hash. */
function compareKey(records: Uint8Array, r: number, hash: Uint8Array, n: number): number {
  const o = r * RECORD_BYTES;
  for (let k = 0; k < n; k++) {
    const d = records[o + k]! - hash[1 + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** The offsets in its chunk of the records of a bucket row whose key is the hash's, ascending. */
export function runCandidates(records: Uint8Array, leafHash: Uint8Array): number[] {
  if (records.length % RECORD_BYTES !== 0) throw new RemembrancerError('STORAGE_FAILURE', 'corrupt leaf run');
  const count = records.length / RECORD_BYTES;
  // Records are ordered by key bytes 1..4 then offset (see buildLeafRun): find that range, then
  // keep the records whose fifth byte matches too.
  let lo = 0;
  let hi = count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKey(records, mid, leafHash, SORTED_KEY_BYTES) < 0) lo = mid + 1;
    else hi = mid;
  }
  const out: number[] = [];
  for (let r = lo; r < count && compareKey(records, r, leafHash, SORTED_KEY_BYTES) === 0; r++) {
    if (compareKey(records, r, leafHash, KEY_BYTES) === 0) {
      out.push((records[r * RECORD_BYTES + KEY_BYTES]! << 8) | records[r * RECORD_BYTES + KEY_BYTES + 1]!);
    }
  }
  return out;
}
