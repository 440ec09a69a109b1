import { HASH_SIZE, TILE_WIDTH } from '@vaultmesh/core';
import { rowOffset, tileHashCount } from './stored-tile-layout.js';

// How a full tile is laid out in the flat-file tile mirror (tile-mirror.ts): pure byte layout.

/** Bytes of a full tile with its interior rows (510 hashes), in the stored row-major layout. */
export const FULL_TILE_BYTES = tileHashCount(TILE_WIDTH) * HASH_SIZE;

/*
 * Mirror slot layout: 16 "path blocks", one per run of 16 base positions, so that every hash an
 * inclusion proof needs from a tile is in one contiguous 1,088-byte block and a proof costs one
 * small pread per tile, with nothing held in memory. Block c (0..15) holds
 *   hashes 0..29:  rows 0..3 of base positions 16c..16c+15 (16 + 8 + 4 + 2 hashes, row by row);
 *   hashes 30..33: the siblings of the block's path in rows 4..7, i.e. row r position (c >> (r-4)) ^ 1.
 * Rows 4..7 are thus stored more than once (every block carries the four it needs), 6.7% more
 * than the 510 hashes of the tile; any one copy restores the tile.
 */
const BLOCKS = 16;
const BLOCK_HASHES = 34;
/** Bytes of one path block. */
export const BLOCK_BYTES = BLOCK_HASHES * HASH_SIZE;
/** Bytes of one mirrored tile (16 path blocks). */
export const MIRROR_SLOT_BYTES = BLOCKS * BLOCK_BYTES;
/** Offset in a block (in hashes) of rows 0..3; row r >= 4 sits at 26 + r. */
const LOWER_ROW_OFFSET = [0, 16, 24, 28] as const;

/**
 * Byte offset, within path block c = position >> 4 of base position `position` (0..255), of the
 * sibling at row `row` (0..7) of the path from that position to the top of the tile: the hash at
 * row `row`, index ((position >> row) ^ 1). Every hash an inclusion proof reads from a tile is such
 * a sibling (on the left or the right).
 */
export function pathSiblingOffset(position: number, row: number): number {
  if (row >= 4) return (26 + row) * HASH_SIZE;
  return (LOWER_ROW_OFFSET[row]! + (((position & 15) >>> row) ^ 1)) * HASH_SIZE;
}

/** The path block holding row `row`, index `index` of a full tile (one of the blocks that do). */
export function blockOf(row: number, index: number): number {
  return row < 4 ? index >>> (4 - row) : (index ^ 1) << (row - 4);
}

/** Offset in hashes, within block blockOf(row, index), of that hash. */
export function offsetInBlock(row: number, index: number): number {
  return row < 4 ? LOWER_ROW_OFFSET[row]! + (index & ((16 >>> row) - 1)) : 26 + row;
}

/** Runs of [source hash, destination hash, count]: row-major tile -> mirror slot. */
const TO_SLOT: Int32Array = (() => {
  const runs: number[] = [];
  for (let c = 0; c < BLOCKS; c++) {
    for (let row = 0; row < 8; row++) {
      if (row < 4) {
        const n = 16 >>> row;
        runs.push(rowOffset(TILE_WIDTH, row) + c * n, c * BLOCK_HASHES + LOWER_ROW_OFFSET[row]!, n);
      } else {
        runs.push(rowOffset(TILE_WIDTH, row) + ((c >>> (row - 4)) ^ 1), c * BLOCK_HASHES + 26 + row, 1);
      }
    }
  }
  return Int32Array.from(runs);
})();

/** Runs of [source hash, destination hash, count]: mirror slot -> row-major tile. */
const FROM_SLOT: Int32Array = (() => {
  const runs: number[] = [];
  for (let row = 0; row < 8; row++) {
    const len = TILE_WIDTH >>> row;
    for (let index = 0; index < len;) {
      const b = blockOf(row, index);
      let n = 1;
      while (index + n < len && blockOf(row, index + n) === b) n++;
      runs.push(b * BLOCK_HASHES + offsetInBlock(row, index), rowOffset(TILE_WIDTH, row) + index, n);
      index += n;
    }
  }
  return Int32Array.from(runs);
})();

function copyRuns(runs: Int32Array, from: Uint8Array, to: Uint8Array): Uint8Array {
  for (let i = 0; i < runs.length; i += 3) {
    const src = runs[i]! * HASH_SIZE;
    to.set(from.subarray(src, src + runs[i + 2]! * HASH_SIZE), runs[i + 1]! * HASH_SIZE);
  }
  return to;
}

/** A full tile in the stored row-major layout (FULL_TILE_BYTES) laid out as a mirror slot. */
export function toMirrorSlot(rowMajor: Uint8Array, out: Uint8Array = new Uint8Array(MIRROR_SLOT_BYTES)): Uint8Array {
  return copyRuns(TO_SLOT, rowMajor, out);
}

/** The stored row-major layout of a full tile from its mirror slot. */
export function fromMirrorSlot(slot: Uint8Array, out: Uint8Array = new Uint8Array(FULL_TILE_BYTES)): Uint8Array {
  return copyRuns(FROM_SLOT, slot, out);
}
