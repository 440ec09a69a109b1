import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from '../../storage/sqlite/sqlite-file.js';

/** 'VMO1': marks the file as a Remembrancer outbox database, distinct from the log, witness and cadence ones. */
export const OUTBOX_APPLICATION_ID = 0x564d4f31;

/**
 * Forward-only migrations; migration i brings user_version from i to i+1. Never edit a released
 * entry: append a new one.
 *
 * `outbox_messages` holds one row per message a namespace of this node sent: where its entry is
 * (namespace, idx), its stream and seq, and how its delivery goes. The source log is the truth:
 * every row can be rebuilt from its entry, and `outbox_scan` remembers, per namespace, the log
 * index below which every entry has been looked at (so the rebuild after a crash reads only what
 * is new). The unique (stream, seq) pair is the outbox's promise to receivers: a seq is used once.
 * Partial indexes keep the delivery worker's questions (what awaits sealing, which streams have
 * messages to deliver or receipts to fetch) proportional to the work, not to the history.
 * `outbox_replies` links a query to the answers received for it.
 */
export const OUTBOX_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE outbox_messages (
    id               TEXT PRIMARY KEY,
    namespace        TEXT NOT NULL,
    idx              INTEGER NOT NULL CHECK (idx >= 0),
    target_node      TEXT NOT NULL,
    target_namespace TEXT NOT NULL,
    seq              INTEGER NOT NULL CHECK (seq >= 1),
    action           TEXT NOT NULL,
    operation        TEXT NOT NULL,
    sent_at          TEXT NOT NULL,
    expires_at       TEXT NOT NULL,
    in_reply_to      TEXT,
    state            TEXT NOT NULL CHECK (state IN ('queued', 'sealed', 'delivered', 'refused', 'expired')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_ms  INTEGER NOT NULL DEFAULT 0,
    error_code       TEXT,
    error_message    TEXT,
    delivery_index   INTEGER,
    delivery_entry   TEXT,
    receipt          TEXT,
    receipt_attempts INTEGER NOT NULL DEFAULT 0 CHECK (receipt_attempts >= 0),
    UNIQUE (namespace, target_node, target_namespace, seq),
    UNIQUE (namespace, idx)
  ) WITHOUT ROWID;
  CREATE INDEX outbox_queued ON outbox_messages (namespace, idx) WHERE state = 'queued';
  CREATE INDEX outbox_sealed ON outbox_messages (namespace, target_node, target_namespace, seq)
    WHERE state = 'sealed';
  CREATE INDEX outbox_receipts ON outbox_messages (namespace, target_node, target_namespace, seq)
    WHERE state = 'delivered' AND receipt IS NULL;
  CREATE TABLE outbox_scan (
    namespace  TEXT PRIMARY KEY,
    next_index INTEGER NOT NULL CHECK (next_index >= 0)
  ) WITHOUT ROWID;
  CREATE TABLE outbox_replies (
    query_id TEXT NOT NULL,
    reply_id TEXT NOT NULL,
    PRIMARY KEY (query_id, reply_id)
  ) WITHOUT ROWID;
  `,
];

export const OUTBOX_SCHEMA_VERSION = OUTBOX_MIGRATIONS.length;

/** Brings the file to the current schema; see migrateDatabase for the checks and the locking. */
export function migrateOutboxDb(db: BetterSqlite3.Database): void {
  migrateDatabase(db, { applicationId: OUTBOX_APPLICATION_ID, migrations: OUTBOX_MIGRATIONS, what: 'outbox' });
}
