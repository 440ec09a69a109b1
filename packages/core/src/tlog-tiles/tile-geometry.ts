/**
 * The shape of a tiled log, C2SP tlog-tiles (https://c2sp.org/tlog-tiles#merkle-tree): which tiles
 * a tree of a given size has and how wide each one is. Clients use it to know which tile paths
 * to fetch for a checkpoint; the node uses it to know which tiles are full (and so immutable).
 */

/** Tree levels per tile: a tile is a subtree of height 8 whose leaves are the hashes it holds. */
export const TILE_HEIGHT = 8;

/** "Full tiles MUST be exactly 256 hashes wide" (https://c2sp.org/tlog-tiles#merkle-tree). */
export const TILE_WIDTH = 256;

/** `<L>` "MUST be a decimal ASCII integer between 0 and 63" (https://c2sp.org/tlog-tiles#merkle-tree). */
export const MAX_TILE_LEVEL = 63;

/**
 * 256^L: the number of leaves under one hash of a level-L tile. Tile N of level L spans entries
 * [N·256^(L+1), (N+1)·256^(L+1)), its hash i the entries [(N·256+i)·256^L, (N·256+i+1)·256^L).
 */
export function leavesPerTileHash(tileLevel: number): number {
  return TILE_WIDTH ** tileLevel;
}

/**
 * Width of tile N at level L in a tree of `treeSize` leaves: how many of its hashes are complete,
 * clamped to 0…256. 0 means the tile does not exist for that tree ("Empty tiles MUST NOT be
 * served"); 1…255 is the partial tile, whose width the spec gives as floor(s / 256^L) mod 256.
 */
export function tileWidthAt(treeSize: number, tileLevel: number, tileIndex: number): number {
  const complete = Math.floor(treeSize / leavesPerTileHash(tileLevel)) - tileIndex * TILE_WIDTH;
  return Math.max(0, Math.min(TILE_WIDTH, complete));
}

/** Number of full tiles at level L in a tree of `treeSize` leaves (tiles 0 … n-1 are full). */
export function fullTileCount(treeSize: number, tileLevel: number): number {
  return Math.floor(treeSize / leavesPerTileHash(tileLevel + 1));
}
