import { join } from 'node:path';
import { RemembrancerError } from '@vaultmesh/core';
import { SqliteLogStorage, type SqliteSynchronous } from '../storage/sqlite/sqlite-log-storage.js';
import type { LogStorage } from '../storage/log-storage.js';
import type { LogEngineConfig } from './log-engine-config.js';
import { TiledLogEngine, type ObservableLogEngine } from './tiled-log-engine.js';

/** File name of the log database inside a node's data directory. */
export const LOG_DB_FILE = 'log.sqlite';

export interface OpenLogEngineOptions extends LogEngineConfig {
  /** The node's data directory; the database is `<dataDir>/log.sqlite`. */
  dataDir?: string;
  /** Explicit database file (instead of dataDir). */
  dbPath?: string;
  /** SQLite durability: FULL (fsync per commit) or NORMAL (survives kill -9, not power loss); DEFAULT_SQLITE_SYNCHRONOUS. */
  synchronous?: SqliteSynchronous;
  /** SQLite page cache in KiB (DEFAULT_SQLITE_CACHE_SIZE_KIB). */
  sqliteCacheSizeKiB?: number;
}

/** Opens (creating if needed) the SQLite log database and the engine over it. */
export async function openLogEngine(options: OpenLogEngineOptions): Promise<ObservableLogEngine> {
  const path = options.dbPath ?? (options.dataDir === undefined ? undefined : join(options.dataDir, LOG_DB_FILE));
  if (path === undefined) throw new RemembrancerError('CONFIG_INVALID', 'openLogEngine needs dataDir or dbPath');
  const storage = new SqliteLogStorage({
    path,
    ...(options.synchronous === undefined ? {} : { synchronous: options.synchronous }),
    ...(options.sqliteCacheSizeKiB === undefined ? {} : { cacheSizeKiB: options.sqliteCacheSizeKiB }),
  });
  try {
    // The tile mirror lives next to the database unless configured (or turned off with false).
    const tileMirrorDir = options.tileMirrorDir ?? `${path}.tiles`;
    return await TiledLogEngine.open(storage, {
      ...options,
      tileMirrorDir: path === ':memory:' ? false : tileMirrorDir,
    });
  } catch (error) {
    await storage.close();
    throw error;
  }
}

/**
 * The engine over storage opened elsewhere (a PostgreSQL database shared by a node's front ends:
 * PgLogStorage). It closes the storage when it closes, or if it fails to open.
 */
export async function openLogEngineOn(storage: LogStorage, config: LogEngineConfig): Promise<ObservableLogEngine> {
  try {
    return await TiledLogEngine.open(storage, config);
  } catch (error) {
    await storage.close();
    throw error;
  }
}
