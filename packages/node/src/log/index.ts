export * from './log-engine.js';
export * from './logger.js';
export * from './stored-tile-layout.js';
export { FULL_TILE_BYTES, MIRROR_SLOT_BYTES, fromMirrorSlot, pathSiblingOffset, toMirrorSlot } from './mirror-slot.js';
export type { TileCacheStats } from './tile-store.js';
export type { LogEngineConfig } from './log-engine-config.js';
export * from './tiled-log-engine.js';
export * from './open-log-engine.js';
export {
  Sequencer,
  type SequencerOptions,
  type SequencerStats,
  type NamespaceGroup,
  type CommitBatch,
} from './sequencer.js';
