import { join } from 'node:path';
import type { StorageTarget } from '../storage/storage-target.js';
import { ANCHOR_DB_FILE } from './anchor-store.js';
import type { AnchorStorage } from './anchor-storage.js';
import { PgAnchorStorage } from './pg-anchor-storage.js';
import { SqliteAnchorStorage } from './sqlite-anchor-storage.js';

/**
 * The anchoring state (and its chain journal) where the node's stores live: anchoring.sqlite in
 * the data directory, or the anchoring tables of its PostgreSQL database, fenced by the lease.
 */
export async function openAnchorStorage(target: StorageTarget): Promise<AnchorStorage> {
  return target.kind === 'sqlite'
    ? new SqliteAnchorStorage(join(target.dataDir, ANCHOR_DB_FILE))
    : PgAnchorStorage.open({ db: target.db, fence: target.fence });
}
