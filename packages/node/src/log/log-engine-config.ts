import { RemembrancerError } from '@vaultmesh/core';
import { loadBatchHasher, type EngineBatchHasher } from '../hashing/index.js';
import {
  DEFAULT_BATCH_MAX_AGE_MS,
  DEFAULT_BATCH_MAX_ENTRIES,
  DEFAULT_CHECKPOINT_INTERVAL_MS,
  DEFAULT_CHECKPOINT_RETENTION,
  DEFAULT_LEAF_INDEX,
  DEFAULT_INTEGRATION_WAIT_MS,
  DEFAULT_MIN_CHECKPOINT_INTERVAL_MS,
  DEFAULT_QUEUE_MAX_BYTES,
  DEFAULT_QUEUE_MAX_ENTRIES,
  DEFAULT_TILE_CACHE_TILES,
  DEFAULT_TILE_MIRROR_SYNC_MS,
  MIN_TILE_CACHE_TILES,
} from './log-engine-defaults.js';
import { silentLogger, type LogEngineLogger } from './logger.js';

/** What the log engine is opened with; every optional member defaults to a constant of log-engine-defaults.ts. */
export interface LogEngineConfig {
  /** This node's name; checkpoint origins are `<nodeName>/<namespace id>`. */
  nodeName: string;
  /** 32-byte Ed25519 seed of the node's log key; it signs every namespace's checkpoints. */
  logSeed: Uint8Array;
  /** Period of the checkpoint publisher, ms (DEFAULT_CHECKPOINT_INTERVAL_MS; 0 disables the timer). */
  checkpointIntervalMs?: number;
  /**
   * Least time between checkpoints signed because clients wait for one (requestCheckpoint), ms
   * (DEFAULT_MIN_CHECKPOINT_INTERVAL_MS; 0: as soon as asked).
   */
  minCheckpointIntervalMs?: number;
  /** Checkpoints kept per namespace, newest first (DEFAULT_CHECKPOINT_RETENTION). */
  checkpointRetention?: number;
  /** Entries per group commit (DEFAULT_BATCH_MAX_ENTRIES). */
  batchMaxEntries?: number;
  /** Longest wait of a queued entry before its batch commits, ms (DEFAULT_BATCH_MAX_AGE_MS). */
  batchMaxAgeMs?: number;
  /** Pending entries beyond which append is refused with QUEUE_FULL (DEFAULT_QUEUE_MAX_ENTRIES). */
  queueMaxEntries?: number;
  /** Pending payload bytes beyond which append is refused with QUEUE_FULL (DEFAULT_QUEUE_MAX_BYTES). */
  queueMaxBytes?: number;
  /**
   * Hashing for whole batches (default: loadBatchHasher(), the native addon or its node:crypto
   * fallback); with nodeHashesPacked the interior nodes of a batch are hashed a tree level per call.
   */
  batchHasher?: EngineBatchHasher;
  /** Hash tiles kept in memory (DEFAULT_TILE_CACHE_TILES, at least MIN_TILE_CACHE_TILES). */
  tileCacheTiles?: number;
  /**
   * Directory of the flat-file mirror of full hash tiles (see tile-mirror.ts); none if omitted
   * or false. openLogEngine puts it next to the database by default.
   */
  tileMirrorDir?: string | false;
  /** How often mirrored tiles are fsynced and recorded, ms (DEFAULT_TILE_MIRROR_SYNC_MS). */
  tileMirrorSyncMs?: number;
  /** Keep the leaf-hash index for search by leaf hash (DEFAULT_LEAF_INDEX); see findLeaf. */
  leafIndex?: boolean;
  /**
   * With several front ends (shared sequencing): how long an append waits for the lease holder
   * to integrate its entries before it resolves anyway (they are durable at their indices), ms.
   */
  integrationWaitMs?: number;
  logger?: LogEngineLogger;
}

/** A checked LogEngineConfig with every default filled in. */
export interface ResolvedLogEngineConfig {
  nodeName: string;
  /** A private copy: the caller may wipe or reuse its buffer. */
  logSeed: Uint8Array;
  checkpointIntervalMs: number;
  minCheckpointIntervalMs: number;
  checkpointRetention: number;
  batchMaxEntries: number;
  batchMaxAgeMs: number;
  queueMaxEntries: number;
  queueMaxBytes: number;
  batchHasher: EngineBatchHasher;
  tileCacheTiles: number;
  tileMirrorDir: string | undefined;
  tileMirrorSyncMs: number;
  leafIndex: boolean;
  integrationWaitMs: number;
  logger: LogEngineLogger;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RemembrancerError('CONFIG_INVALID', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return v;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isFinite(v) || v < 0) throw new RemembrancerError('CONFIG_INVALID', `${name} must be >= 0`);
  return v;
}

/**
 * Checks the whole config before the engine opens anything (no directory, timer or file exists
 * yet when a member is refused); throws CONFIG_INVALID.
 */
export function resolveLogEngineConfig(config: LogEngineConfig): ResolvedLogEngineConfig {
  // The name becomes the first half of every origin; C2SP key names forbid spaces and '+'.
  if (typeof config.nodeName !== 'string' || !/^[^\s/+\p{C}]{1,253}$/u.test(config.nodeName)) {
    throw new RemembrancerError('CONFIG_INVALID', 'node name must be 1-253 characters without spaces, "/" or "+"');
  }
  if (!(config.logSeed instanceof Uint8Array) || config.logSeed.length !== 32) {
    throw new RemembrancerError('CONFIG_INVALID', 'log seed must be 32 bytes');
  }
  if (config.leafIndex !== undefined && typeof config.leafIndex !== 'boolean') {
    throw new RemembrancerError('CONFIG_INVALID', 'leafIndex must be true or false');
  }
  const resolved = {
    nodeName: config.nodeName,
    logSeed: config.logSeed.slice(),
    checkpointRetention: positiveInt('checkpointRetention', config.checkpointRetention, DEFAULT_CHECKPOINT_RETENTION),
    checkpointIntervalMs: nonNegative(
      'checkpointIntervalMs',
      config.checkpointIntervalMs,
      DEFAULT_CHECKPOINT_INTERVAL_MS,
    ),
    minCheckpointIntervalMs: nonNegative(
      'minCheckpointIntervalMs',
      config.minCheckpointIntervalMs,
      DEFAULT_MIN_CHECKPOINT_INTERVAL_MS,
    ),
    batchMaxAgeMs: nonNegative('batchMaxAgeMs', config.batchMaxAgeMs, DEFAULT_BATCH_MAX_AGE_MS),
    tileCacheTiles: positiveInt(
      'tileCacheTiles',
      config.tileCacheTiles,
      DEFAULT_TILE_CACHE_TILES,
      MIN_TILE_CACHE_TILES,
    ),
    batchMaxEntries: positiveInt('batchMaxEntries', config.batchMaxEntries, DEFAULT_BATCH_MAX_ENTRIES),
    queueMaxEntries: positiveInt('queueMaxEntries', config.queueMaxEntries, DEFAULT_QUEUE_MAX_ENTRIES),
    queueMaxBytes: positiveInt('queueMaxBytes', config.queueMaxBytes, DEFAULT_QUEUE_MAX_BYTES),
    tileMirrorDir: config.tileMirrorDir || undefined,
    tileMirrorSyncMs: positiveInt('tileMirrorSyncMs', config.tileMirrorSyncMs, DEFAULT_TILE_MIRROR_SYNC_MS),
    leafIndex: config.leafIndex ?? DEFAULT_LEAF_INDEX,
    integrationWaitMs: positiveInt('integrationWaitMs', config.integrationWaitMs, DEFAULT_INTEGRATION_WAIT_MS),
    logger: config.logger ?? silentLogger,
  };
  // Only a valid config loads the native hasher.
  return { ...resolved, batchHasher: config.batchHasher ?? loadBatchHasher() };
}
