import { join } from 'node:path';
import type { StorageTarget } from '../storage/storage-target.js';
import { INBOX_DB_FILE } from './inbox/inbox-store.js';
import { pgInboxCountSource } from './inbox/pg-stream-counts.js';
import { InboxStreamCounts } from './inbox/stream-counts.js';
import { OUTBOX_DB_FILE } from './outbox/outbox-store.js';
import { pgOutboxCountSource } from './outbox/pg-stream-counts.js';
import { OutboxStreamCounts } from './outbox/stream-counts.js';

/*
 * The explorer's Messages page counts streams where the outbox and inbox keep them: on SQLite a
 * read-only connection of its own to the store's file (which must exist: open the store first);
 * on PostgreSQL queries over the store's tables on the shared pool.
 */

/** Counts of the outbox's streams; `now`: the outbox's clock, ms. */
export function openOutboxStreamCounts(target: StorageTarget, now?: () => number): OutboxStreamCounts {
  return new OutboxStreamCounts(
    target.kind === 'sqlite' ? join(target.dataDir, OUTBOX_DB_FILE) : pgOutboxCountSource(target.db),
    now,
  );
}

/** Counts of the inbox's streams. */
export function openInboxStreamCounts(target: StorageTarget): InboxStreamCounts {
  return new InboxStreamCounts(
    target.kind === 'sqlite' ? join(target.dataDir, INBOX_DB_FILE) : pgInboxCountSource(target.db),
  );
}
