import { join } from 'node:path';
import type { StorageTarget } from '../../storage/storage-target.js';
import { INBOX_DB_FILE } from './inbox-store.js';
import type { InboxStorage } from './inbox-storage.js';
import { PgInboxStorage } from './pg-inbox-storage.js';
import { SqliteInboxStorage } from './sqlite-inbox-storage.js';

/**
 * The inbox's state where the node's stores live: inbox.sqlite in the data directory, or the
 * inbox tables of its PostgreSQL database, fenced by the lease: reconciliation at open judges
 * every unresolved intent as its own, which holds only while one process applies messages.
 */
export async function openInboxStorage(target: StorageTarget): Promise<InboxStorage> {
  return target.kind === 'sqlite'
    ? SqliteInboxStorage.open(join(target.dataDir, INBOX_DB_FILE))
    : PgInboxStorage.open({ db: target.db, fence: target.fence });
}
