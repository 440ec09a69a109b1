import { join } from 'node:path';
import type { StorageTarget } from '../../storage/storage-target.js';
import { OUTBOX_DB_FILE } from './outbox-store.js';
import type { OutboxStorage } from './outbox-storage.js';
import { PgOutboxStorage } from './pg-outbox-storage.js';
import { SqliteOutboxStorage } from './sqlite-outbox-storage.js';

/**
 * The outbox's rows where the node's stores live: outbox.sqlite in the data directory, or the
 * outbox tables of its PostgreSQL database, fenced by the lease (delivery is the holder's work).
 */
export async function openOutboxStorage(target: StorageTarget): Promise<OutboxStorage> {
  return target.kind === 'sqlite'
    ? SqliteOutboxStorage.open(join(target.dataDir, OUTBOX_DB_FILE))
    : PgOutboxStorage.open({ db: target.db, fence: target.fence });
}
