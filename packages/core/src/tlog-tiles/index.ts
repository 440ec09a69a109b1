// C2SP tlog-tiles (https://c2sp.org/tlog-tiles): tile geometry, tile and entry-bundle paths,
// entry-bundle encoding. Pure and I/O-free: shared by the node (which serves tiles), the CLI,
// the explorer and third-party verifiers (which fetch them).
export {
  MAX_TILE_LEVEL,
  TILE_HEIGHT,
  TILE_WIDTH,
  fullTileCount,
  leavesPerTileHash,
  tileWidthAt,
} from './tile-geometry.js';
export { formatTileIndex, formatTilePath, parseTilePath, type TilePath } from './tile-path.js';
export { MAX_BUNDLE_ENTRY_BYTES, encodeEntryBundle, parseEntryBundle } from './entry-bundle.js';
