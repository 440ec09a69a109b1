import { join } from 'node:path';
import type { StorageTarget } from '../storage/storage-target.js';
import { CADENCE_DB_FILE } from './cadence-store.js';
import type { CadenceStorage } from './cadence-storage.js';
import { PgCadenceStorage } from './pg-cadence-storage.js';
import { SqliteCadenceStorage } from './sqlite-cadence-storage.js';

/**
 * The cadence schedules where the node's stores live: cadence.sqlite in the data directory, or
 * the cadence tables of its PostgreSQL database (fenced: only the lease holder ticks).
 */
export async function openCadenceStorage(target: StorageTarget): Promise<CadenceStorage> {
  return target.kind === 'sqlite'
    ? SqliteCadenceStorage.open(join(target.dataDir, CADENCE_DB_FILE))
    : PgCadenceStorage.open({ db: target.db, fence: target.fence });
}
