import {
  CompactRange,
  HASH_SIZE,
  RemembrancerError,
  TILE_HEIGHT,
  TILE_WIDTH,
  leavesPerTileHash,
  nodeHash,
} from '@vaultmesh/core';
import type { NamespaceKey, TileWrite } from '../storage/log-storage.js';
import { rowOffset, tileHashCount } from './stored-tile-layout.js';
import type { TileStore } from './tile-store.js';

/** Hashes n (left ‖ right) pairs packed in 64n bytes into n packed parents (RFC 6962 interior nodes). */
export type PairHasher = (children: Uint8Array) => Uint8Array;

/** The pair hasher of last resort: core's nodeHash, one pair at a time. */
export const jsPairHasher: PairHasher = (children) => {
  const n = children.length / (2 * HASH_SIZE);
  const out = new Uint8Array(n * HASH_SIZE);
  for (let i = 0; i < n; i++) {
    const o = i * 2 * HASH_SIZE;
    out.set(
      nodeHash(children.subarray(o, o + HASH_SIZE), children.subarray(o + HASH_SIZE, o + 2 * HASH_SIZE)),
      i * HASH_SIZE,
    );
  }
  return out;
};

export interface Integration {
  /** The tree after the new leaves; the caller adopts it only once the commit is durable. */
  range: CompactRange;
  /** Every tile the new leaves touched, complete in its new form. */
  tiles: TileWrite[];
  /** The new leaf hashes, packed (32 bytes each, in index order). */
  leaves: Uint8Array;
}

function copyHash(src: Uint8Array, at: number): Uint8Array {
  const h = new Uint8Array(HASH_SIZE);
  h.set(src.subarray(at * HASH_SIZE, (at + 1) * HASH_SIZE));
  return h;
}

/**
 * Integrates a batch of leaf hashes into a copy of the tree, a level at a time: level h gains the
 * perfect subtrees [⌊s/2^h⌋, ⌊e/2^h⌋) when the tree grows from s to e leaves, and their parents
 * are hashed in one pairHasher call per level (the left child of the first pair may be the old
 * right-edge subtree, which the compact range holds). The new rows then land in their tiles:
 * old tiles are read once per batch (normally from the cache) and extended into new tile
 * objects. Nothing is changed in place, so a failed commit leaves the engine's tree untouched.
 */
export function integrate(
  ns: NamespaceKey,
  range: CompactRange,
  leafHashes: readonly Uint8Array[],
  tiles: TileStore,
  hashPairs: PairHasher = jsPairHasher,
): Integration {
  const s = range.size;
  const n = leafHashes.length;
  const e = s + n;
  const leaves = new Uint8Array(n * HASH_SIZE);
  for (let i = 0; i < n; i++) {
    const h = leafHashes[i]!;
    if (h.length !== HASH_SIZE) throw new RemembrancerError('INTERNAL', `leaf hash ${i} is ${h.length} bytes`);
    leaves.set(h, i * HASH_SIZE);
  }
  if (n === 0) return { range, tiles: [], leaves };

  // The old compact range by level: one perfect subtree per set bit of s, largest first.
  const oldEdge = new Map<number, Uint8Array>();
  {
    let i = 0;
    for (let h = 53; h >= 0; h--) if (Math.floor(s / 2 ** h) % 2 === 1) oldEdge.set(h, range.hashes[i++]!);
  }

  // rows[h] packs the new level-h subtrees, indices [⌊s/2^h⌋, ⌊e/2^h⌋).
  const rows: Uint8Array[] = [leaves];
  for (let h = 0; ; h++) {
    const a = Math.floor(s / 2 ** h);
    const a1 = Math.floor(s / 2 ** (h + 1));
    const b1 = Math.floor(e / 2 ** (h + 1));
    if (b1 <= a1) break;
    const cur = rows[h]!;
    const used = (2 * b1 - a) * HASH_SIZE;
    let children: Uint8Array;
    if (2 * a1 < a) {
      // a is odd: the first pair's left child is the old level-h edge subtree (index a - 1).
      children = new Uint8Array(2 * (b1 - a1) * HASH_SIZE);
      children.set(oldEdge.get(h)!, 0);
      children.set(cur.subarray(0, used), HASH_SIZE);
    } else {
      children = cur.subarray(0, used);
    }
    const parents = hashPairs(children);
    if (parents.length !== (b1 - a1) * HASH_SIZE) {
      throw new RemembrancerError('INTERNAL', `pair hasher returned ${parents.length} bytes for ${b1 - a1} parents`);
    }
    rows.push(parents);
  }

  // The new compact range: for each set bit h of e, subtree ⌊e/2^h⌋ - 1 of level h.
  const edge: Uint8Array[] = [];
  for (let h = 53; h >= 0; h--) {
    const count = Math.floor(e / 2 ** h);
    if (count % 2 === 0) continue;
    const a = Math.floor(s / 2 ** h);
    edge.push(count - 1 >= a ? copyHash(rows[h]!, count - 1 - a) : oldEdge.get(h)!);
  }
  const next = new CompactRange(e, edge);

  const writes: TileWrite[] = [];
  for (let level = 0; TILE_HEIGHT * level < rows.length; level++) {
    const a = Math.floor(s / leavesPerTileHash(level));
    const b = Math.floor(e / leavesPerTileHash(level));
    for (let index = Math.floor(a / TILE_WIDTH); index * TILE_WIDTH < b; index++) {
      writes.push(buildTile(ns, level, index, s, a - index * TILE_WIDTH, b - index * TILE_WIDTH, rows, tiles));
    }
  }
  return { range: next, tiles: writes, leaves };
}

function buildTile(
  ns: NamespaceKey,
  level: number,
  index: number,
  oldSize: number,
  oldBase: number,
  newBase: number,
  rows: readonly Uint8Array[],
  tiles: TileStore,
): TileWrite {
  const oldWidth = Math.max(0, Math.min(TILE_WIDTH, oldBase));
  const width = Math.min(TILE_WIDTH, newBase);
  let old: Uint8Array | undefined;
  if (oldWidth > 0) {
    const stored = tiles.tile(ns, level, index);
    if (stored === undefined || stored.width !== oldWidth) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `tile ${level}/${index} has width ${stored?.width ?? 0}, expected ${oldWidth} at tree size ${oldSize}`,
      );
    }
    old = stored.data;
  }
  const data = new Uint8Array(tileHashCount(width) * HASH_SIZE);
  for (let k = 0; k < TILE_HEIGHT; k++) {
    const had = oldWidth >>> k;
    const len = width >>> k;
    const dst = rowOffset(width, k) * HASH_SIZE;
    if (old !== undefined && had > 0) {
      const src = rowOffset(oldWidth, k) * HASH_SIZE;
      data.set(old.subarray(src, src + had * HASH_SIZE), dst);
    }
    if (len > had) {
      const h = TILE_HEIGHT * level + k;
      const row = rows[h];
      // First new position of this row, as an index into rows[h] (which starts at ⌊s/2^h⌋).
      const from = index * (TILE_WIDTH >>> k) + had - Math.floor(oldSize / 2 ** h);
      if (row === undefined || from < 0 || (from + len - had) * HASH_SIZE > row.length) {
        throw new RemembrancerError('INTERNAL', `tile ${level}/${index} row ${k}: new hashes out of range`);
      }
      data.set(row.subarray(from * HASH_SIZE, (from + len - had) * HASH_SIZE), dst + had * HASH_SIZE);
    }
  }
  return { level, index, width, data };
}
