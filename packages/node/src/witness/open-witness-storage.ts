import { join } from 'node:path';
import { NO_FENCE } from '../storage/postgres/write-fence.js';
import type { StorageTarget } from '../storage/storage-target.js';
import { PgWitnessStorage } from './pg-witness-storage.js';
import { SqliteWitnessStorage } from './sqlite-witness-storage.js';
import { WITNESS_DB_FILE } from './witness.js';
import type { WitnessStorage } from './witness-storage.js';

/**
 * The witness's state where the node's stores are: its own SQLite file in the data directory
 * (WITNESS_DB_FILE), or the PostgreSQL tables. Not fenced: add-checkpoint is safe from every front
 * end (updateCheckpoints is serialised and compare-and-set, see PgWitnessStorage), so the witness
 * answers from whichever front end a log asks, lease or not.
 */
export async function openWitnessStorage(target: StorageTarget): Promise<WitnessStorage> {
  return target.kind === 'sqlite'
    ? SqliteWitnessStorage.open(join(target.dataDir, WITNESS_DB_FILE))
    : PgWitnessStorage.open({ db: target.db, fence: NO_FENCE });
}
