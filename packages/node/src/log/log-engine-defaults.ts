/**
 * The log engine's defaults, each documented here and only here. LogEngineConfig, openLogEngine
 * and config.json's defaults (config/node-config.ts) name these constants instead of repeating
 * the numbers; docs/operations.md describes them for operators.
 */

/** Checkpoint publisher period, ms: a new entry is under a signed checkpoint about a second later. 0 turns the timer off. */
export const DEFAULT_CHECKPOINT_INTERVAL_MS = 1000;

/**
 * While clients wait for a receipt (POST …?wait=), checkpoints are signed as soon as their entries
 * are integrated, at most this often, ms; with no one waiting the interval above stands.
 */
export const DEFAULT_MIN_CHECKPOINT_INTERVAL_MS = 50;

/** Checkpoints kept per namespace, newest first: about 16 minutes of history at one checkpoint a second. */
export const DEFAULT_CHECKPOINT_RETENTION = 1000;

/** Entries per group commit: one storage transaction, so it bounds how long a commit holds the event loop. */
export const DEFAULT_BATCH_MAX_ENTRIES = 4096;

/** Longest wait of a queued entry before its batch commits, ms: the latency an append pays for batching. */
export const DEFAULT_BATCH_MAX_AGE_MS = 5;

/**
 * Pending entries (all namespaces) beyond which append is refused with QUEUE_FULL. Namespaces
 * share it fairly: one with pending work may hold at most half of what the others leave (see
 * Sequencer), so a lone namespace may queue half of it.
 */
export const DEFAULT_QUEUE_MAX_ENTRIES = 65_536;

/** Pending payload bytes beyond which append is refused with QUEUE_FULL (64 MiB), shared the same way. */
export const DEFAULT_QUEUE_MAX_BYTES = 64 * 1024 * 1024;

/**
 * Hash tiles kept in memory (≤ 32 MiB at 16 KiB a full tile): three quarters for level-0 tiles
 * (recently written or read), a quarter reserved for the 256× fewer tiles of higher levels that
 * every proof needs (see TileStore).
 */
export const DEFAULT_TILE_CACHE_TILES = 2048;

/** The least tileCacheTiles accepted, so that each region of the cache (3:1, see TileStore) holds a few tiles. */
export const MIN_TILE_CACHE_TILES = 16;

/**
 * Whether the leaf-hash index (search by leaf hash) is kept: a sorted run per 65,536 entries,
 * written in the transaction of the commit that completes them (storage/leaf-runs.ts). On by
 * default; off, the search answers NOT_FOUND until it is turned on again (the runs missing are
 * written on open).
 */
export const DEFAULT_LEAF_INDEX = true;

/** How often mirrored tiles are fsynced and recorded as durable, ms (see TileMirror). */
export const DEFAULT_TILE_MIRROR_SYNC_MS = 1000;

/*
 * Fixed tuning of the tile mirror (not configurable): a commit copies its newly full tiles into
 * the mirror at once, up to a bound so a commit never stalls on a backlog; a backlog (the first
 * open of a large log, a rebuilt mirror) is copied by a background timer in small steps, so the
 * event loop stays responsive while it catches up.
 */

/** Full tiles per level copied into the mirror right after a commit. */
export const MIRROR_TILES_PER_COMMIT = 64;

/** Full tiles per level copied by one background catch-up step. */
export const MIRROR_CATCH_UP_TILES = 256;

/** Pause between background catch-up steps, ms. */
export const MIRROR_CATCH_UP_DELAY_MS = 5;

// SQLite's own defaults (durability FULL, a 32 MiB page cache) belong to the storage layer below;
// they are listed here so this file names every default the engine runs with.
export { DEFAULT_SQLITE_CACHE_SIZE_KIB, DEFAULT_SQLITE_SYNCHRONOUS } from '../storage/sqlite/sqlite-log-storage.js';

/**
 * With several front ends: an append resolves once the lease holder has integrated it, or after
 * this long (a failover takes about the lease length, 2 s by default), its entries durable either way.
 */
export const DEFAULT_INTEGRATION_WAIT_MS = 5_000;
