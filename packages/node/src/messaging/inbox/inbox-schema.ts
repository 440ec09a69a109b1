import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from '../../storage/sqlite/sqlite-file.js';

/** 'VMI1': marks the file as a Remembrancer inbox database, distinct from the log, witness and cadence ones. */
export const INBOX_APPLICATION_ID = 0x564d4931;

/**
 * Forward-only migrations; migration i brings user_version from i to i+1. Never edit a released
 * entry: append a new one.
 *
 * `inbox_messages` holds one row per message a target took into its streams, keyed by what makes
 * it unique across relays and retries (source log origin, entry index), with the stream's seq
 * unique beside it (a second message for one seq is a conflict). States: `held` (proven, waiting
 * for an earlier seq), `applying` (its delivery record is being appended: the intent that
 * reconciliation resolves against the log after a crash), `applied` (its delivery record is at
 * `delivery_index`), `refused` (proven and in its stream, but refused by the target's rules when
 * its turn came: final, the stream went past it). `delivery` is the delivery record's JSON, the
 * exact bytes planned (applying) or stored (applied).
 *
 * `inbox_streams` is the next seq each stream (source origin → target namespace) applies.
 * `inbox_items` is the application inbox: its AUTOINCREMENT key is the cursor, never reused.
 * `inbox_scan_marks`: every delivery record of the namespace's log below `next_index` has its
 * effect recorded here; reconciliation scans from there.
 */
export const INBOX_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE inbox_messages (
    source_origin  TEXT NOT NULL,
    source_index   INTEGER NOT NULL CHECK (source_index >= 0),
    message_id     TEXT NOT NULL,
    namespace      TEXT NOT NULL,
    seq            INTEGER NOT NULL CHECK (seq >= 1),
    action         TEXT NOT NULL,
    message        TEXT NOT NULL,
    reply_linked   INTEGER NOT NULL CHECK (reply_linked IN (0, 1)),
    state          TEXT NOT NULL CHECK (state IN ('held', 'applying', 'applied', 'refused')),
    delivery       TEXT,
    delivery_index INTEGER,
    record_index   INTEGER,
    error_code     TEXT,
    error_message  TEXT,
    received_ms    INTEGER NOT NULL,
    PRIMARY KEY (source_origin, source_index)
  );
  CREATE UNIQUE INDEX inbox_messages_stream_seq ON inbox_messages (namespace, source_origin, seq);
  CREATE INDEX inbox_messages_applying ON inbox_messages (namespace) WHERE state = 'applying';
  CREATE TABLE inbox_streams (
    namespace     TEXT NOT NULL,
    source_origin TEXT NOT NULL,
    next_seq      INTEGER NOT NULL CHECK (next_seq >= 1),
    PRIMARY KEY (namespace, source_origin)
  ) WITHOUT ROWID;
  CREATE TABLE inbox_items (
    cursor        INTEGER PRIMARY KEY AUTOINCREMENT,
    namespace     TEXT NOT NULL,
    source_origin TEXT NOT NULL,
    source_index  INTEGER NOT NULL,
    UNIQUE (source_origin, source_index)
  );
  CREATE INDEX inbox_items_namespace ON inbox_items (namespace, cursor);
  CREATE TABLE inbox_scan_marks (
    namespace  TEXT PRIMARY KEY,
    next_index INTEGER NOT NULL CHECK (next_index >= 0)
  ) WITHOUT ROWID;
  `,
];

export const INBOX_SCHEMA_VERSION = INBOX_MIGRATIONS.length;

/** Brings the file to the current schema; see migrateDatabase for the checks and the locking. */
export function migrateInboxDb(db: BetterSqlite3.Database): void {
  migrateDatabase(db, { applicationId: INBOX_APPLICATION_ID, migrations: INBOX_MIGRATIONS, what: 'inbox' });
}
