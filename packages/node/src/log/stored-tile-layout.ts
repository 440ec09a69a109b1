/**
 * Where each perfect-subtree hash lives in the tile store.
 *
 * C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tiles have height 8; tile level L, index N holds
 * the hashes at tree level 8L, indices N·256 … N·256+255 (fewer in a partial tile). We store each
 * tile with its interior rows as well, so every perfect subtree hash of levels 8L … 8L+7 is read
 * from one tile and nothing is ever rehashed on read:
 *
 *   row k (k = 0..7) holds the level-(8L+k) hashes of the tile, ⌊width / 2^k⌋ of them,
 *   rows are concatenated in order, so the first width×32 bytes are exactly the C2SP tile.
 */
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;
export const HASH_SIZE = 32;

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

/** 256^L: the number of leaves under one level-8L hash. */
export function leavesPerTileHash(tileLevel: number): number {
  return TILE_WIDTH ** tileLevel;
}

/**
 * Width of tile (tileLevel, tileIndex) in a tree of `treeSize` leaves: how many of its level-8L
 * hashes are complete, clamped to 0…256.
 */
export function tileWidthAt(treeSize: number, tileLevel: number, tileIndex: number): number {
  const complete = Math.floor(treeSize / leavesPerTileHash(tileLevel)) - tileIndex * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, complete));
}

/** The C2SP bytes of a stored tile at a width ≤ its stored width. */
export function c2spTileBytes(data: Uint8Array, width: number): Uint8Array {
  return data.subarray(0, width * HASH_SIZE);
}
