import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH } from '@vaultmesh/core';

/**
 * How the node stores a tile: where each perfect-subtree hash lives. (What a tile is, and its
 * path, are C2SP tlog-tiles, in @vaultmesh/core's tlog-tiles module.)
 *
 * Tile level L, index N holds the hashes at tree level 8L, indices N·256 … N·256+255 (fewer in a
 * partial tile). We store each tile with its interior rows as well, so every perfect subtree
 * hash of levels 8L … 8L+7 is read from one tile and nothing is ever rehashed on read:
 *
 *   row k (k = 0..7) holds the level-(8L+k) hashes of the tile, ⌊width / 2^k⌋ of them,
 *   rows are concatenated in order, so the first width×32 bytes are exactly the C2SP tile.
 */

/** Number of hashes in row k of a tile of the given width. */
export function rowLength(width: number, row: number): number {
  return width >>> row;
}

/** Offset of row k, in hashes. */
export function rowOffset(width: number, row: number): number {
  let o = 0;
  for (let k = 0; k < row; k++) o += width >>> k;
  return o;
}

/** Total hashes stored for a tile of the given width (510 for a full tile). */
export function tileHashCount(width: number): number {
  return rowOffset(width, TILE_HEIGHT);
}

export interface HashLocation {
  tileLevel: number;
  tileIndex: number;
  row: number;
  /** Position within the row. */
  position: number;
}

/** Tile coordinates of the perfect subtree hash at tree level `level`, index `index`. */
export function locateHash(level: number, index: number): HashLocation {
  const row = level % TILE_HEIGHT;
  const perTile = TILE_WIDTH >>> row;
  const tileIndex = Math.floor(index / perTile);
  return { tileLevel: (level - row) / TILE_HEIGHT, tileIndex, row, position: index - tileIndex * perTile };
}

/** The C2SP bytes of a stored tile at a width ≤ its stored width: its first row. */
export function c2spTileBytes(data: Uint8Array, width: number): Uint8Array {
  return data.subarray(0, width * HASH_SIZE);
}
