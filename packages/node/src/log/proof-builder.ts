import {
  EMPTY_ROOT,
  HASH_SIZE,
  RemembrancerError,
  TILE_HEIGHT,
  TILE_WIDTH,
  hashRange,
  nodeHash,
  rangeDecomposition,
  type SubtreeId,
} from '@vaultmesh/core';
import type { NamespaceKey } from '../storage/log-storage.js';
import { missingHash, type PathSiblings, type TileStore } from './tile-store.js';

/** Reads a perfect subtree hash (a view; copy before handing out), undefined if not stored. */
export type HashReader = (level: number, index: number) => Uint8Array | undefined;

/**
 * The right edge of the tree at one size: the perfect subtrees of [0, size) and, for each i, the
 * hash of [start of subtree i, size). Every non-perfect node an RFC 9162 proof or root needs at
 * that size is such a suffix (the ragged nodes all end at the tree's right edge), so with this
 * table a proof is pure lookups: no hashing per request.
 */
export interface EdgeFolds {
  ids: SubtreeId[];
  folds: Uint8Array[];
}

export function computeEdgeFolds(size: number, hashes: readonly Uint8Array[] | undefined, read: HashReader): EdgeFolds {
  const ids = rangeDecomposition(0, size);
  const m = ids.length;
  const folds = new Array<Uint8Array>(m);
  const hashAt = (i: number): Uint8Array => {
    if (hashes !== undefined) return hashes[i]!;
    const id = ids[i]!;
    const h = read(id.level, id.index);
    if (h === undefined) throw missingHash(id.level, id.index);
    return h;
  };
  for (let i = m - 1; i >= 0; i--) folds[i] = i === m - 1 ? hashAt(i).slice() : nodeHash(hashAt(i), folds[i + 1]!);
  return { ids, folds };
}

export function rootFromEdge(edge: EdgeFolds): Uint8Array {
  return edge.folds.length === 0 ? EMPTY_ROOT : edge.folds[0]!;
}

/**
 * Turns a proof plan (core's inclusionProofPlan / consistencyProofPlan at tree size `size`) into
 * hashes. Single perfect subtrees come from the tile store; ragged elements from the edge table,
 * falling back to hashing only if an element is not a suffix of the edge (never for RFC 9162
 * plans, but the fallback keeps this correct for any plan).
 */
export function hashPlan(
  plan: readonly (readonly SubtreeId[])[],
  read: HashReader,
  edge: () => EdgeFolds,
): Uint8Array[] {
  const out = new Array<Uint8Array>(plan.length);
  const get = (id: SubtreeId): Uint8Array => {
    const h = read(id.level, id.index);
    if (h === undefined) throw missingHash(id.level, id.index);
    return h;
  };
  for (let p = 0; p < plan.length; p++) {
    const ids = plan[p]!;
    if (ids.length === 1) {
      out[p] = get(ids[0]!).slice();
      continue;
    }
    const e = edge();
    const i = e.ids.length - ids.length;
    const first = e.ids[i];
    if (i >= 0 && first !== undefined && first.level === ids[0]!.level && first.index === ids[0]!.index) {
      out[p] = e.folds[i]!.slice();
    } else {
      out[p] = hashRange(ids.map(get));
    }
  }
  return out;
}

/** POW2[h] = 2^h, exact for every tree level of a safe-integer tree size. */
const POW2: Float64Array = Float64Array.from({ length: 54 }, (_, h) => 2 ** h);

function popcount(x: number): number {
  let c = 0;
  for (; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/**
 * RFC 9162 §2.1.3.1 inclusion proof of leaf `index` (< size) in the tree of `size` leaves, read
 * straight from the tiles, without a plan. Going up from the leaf, level h contributes the
 * sibling of the leaf's level-h ancestor a = ⌊index / 2^h⌋ if that sibling is in the tree:
 *   - below the level where the path meets the tree's right edge (a ≠ ⌊(size-1) / 2^h⌋), the
 *     sibling a ^ 1 always; it is a perfect subtree, except possibly the last one, on the right,
 *     which may end at `size`: then it is the edge fold of [(a+1)·2^h, size);
 *   - on the right edge, the left sibling a - 1 when a is odd (a perfect subtree), else nothing.
 * Every perfect sibling of tile level L is a sibling of the path through position
 * ⌊index / 256^L⌋ mod 256 of one tile, so a proof resolves one tile per tile level and copies
 * its hashes out (TileStore.path: memory, or one small mirror read). `edge` gives the right-edge
 * table at `size`; it is only asked for when a ragged sibling occurs.
 */
export function inclusionProofFromTiles(
  tiles: TileStore,
  ns: NamespaceKey,
  index: number,
  size: number,
  edge: (size: number) => EdgeFolds,
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const last = size - 1;
  let view: PathSiblings | undefined;
  let viewLevel = -1;
  for (let h = 0; h < 54; h++) {
    const l = Math.floor(last / POW2[h]!);
    if (l === 0) break;
    const a = Math.floor(index / POW2[h]!);
    const odd = a % 2 === 1;
    if (a === l && !odd) continue;
    if (a !== l && !odd && (a + 2) * POW2[h]! > size) {
      // The ragged right sibling [(a+1)·2^h, size): the suffix of the edge after the set bits of
      // size at levels >= h.
      const e = edge(size);
      const i = popcount(Math.floor(size / POW2[h]!));
      const id = e.ids[i];
      if (id === undefined || id.index * POW2[id.level]! !== (a + 1) * POW2[h]!) {
        throw new RemembrancerError(
          'INTERNAL',
          `edge table of size ${size} does not start a subtree at ${(a + 1) * POW2[h]!}`,
        );
      }
      out.push(e.folds[i]!.slice());
      // Building the edge may have read tiles through the mirror's shared buffer.
      viewLevel = -1;
      continue;
    }
    const level = h >>> 3;
    if (level !== viewLevel) {
      const base = POW2[TILE_HEIGHT * level]!;
      const tileIndex = Math.floor(index / (base * TILE_WIDTH));
      view = tiles.path(ns, level, tileIndex, Math.floor(index / base) - tileIndex * TILE_WIDTH);
      viewLevel = level;
    }
    const o = view === undefined ? -1 : view.at[h & 7]!;
    if (o < 0) throw missingHash(h, odd ? a - 1 : a + 1);
    out.push(view!.data.slice(o, o + HASH_SIZE));
  }
  return out;
}
