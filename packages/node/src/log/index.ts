export * from './log-engine.js';
export * from './logger.js';
export * from './tile-layout.js';
export { FULL_TILE_BYTES, MIRROR_SLOT_BYTES, fromMirrorSlot, pathSiblingOffset, toMirrorSlot } from './tile-mirror.js';
export type { TileCacheStats } from './tile-store.js';
export * from './tiled-log-engine.js';
export * from './open-log-engine.js';
export { Sequencer, type SequencerOptions, type SequencerStats, type NamespaceGroup, type CommitBatch } from './sequencer.js';
