import type { TableCopy } from '../../storage/migration/table-copy.js';
import type { PgSchema } from '../../storage/postgres/pg-migrations.js';

/**
 * The inbox's tables in a node's shared PostgreSQL database: the same rows, states and
 * constraints as the SQLite file (inbox-schema.ts tells what each holds), in one migration.
 * Differences, each for PostgreSQL's sake: text keys are COLLATE "C" (streams in byte order, as
 * SQLite lists them); the application inbox's cursor is an identity column (SQLite's
 * AUTOINCREMENT: never reused; PgInboxStorage assigns a namespace's cursors under a lock, so they
 * commit in order); the applying index covers the stream order applyingRows() reads in, and
 * record_index has an index for reconciliation's recordIndexesFrom(). Forward-only: never edit a
 * released entry, append a new one.
 */
export const PG_INBOX_SCHEMA: PgSchema = {
  store: 'inbox',
  migrations: [
    `
    CREATE TABLE inbox_messages (
      source_origin  TEXT COLLATE "C" NOT NULL,
      source_index   BIGINT NOT NULL CHECK (source_index >= 0),
      message_id     TEXT NOT NULL,
      namespace      TEXT COLLATE "C" NOT NULL,
      seq            BIGINT NOT NULL CHECK (seq >= 1),
      action         TEXT NOT NULL,
      message        TEXT NOT NULL,
      reply_linked   INTEGER NOT NULL CHECK (reply_linked IN (0, 1)),
      state          TEXT NOT NULL CHECK (state IN ('held', 'applying', 'applied', 'refused')),
      delivery       TEXT,
      delivery_index BIGINT,
      record_index   BIGINT,
      error_code     TEXT,
      error_message  TEXT,
      received_ms    BIGINT NOT NULL,
      PRIMARY KEY (source_origin, source_index)
    );
    CREATE UNIQUE INDEX inbox_messages_stream_seq ON inbox_messages (namespace, source_origin, seq);
    CREATE INDEX inbox_messages_applying ON inbox_messages (namespace, source_origin, seq) WHERE state = 'applying';
    CREATE INDEX inbox_messages_record_index ON inbox_messages (namespace, record_index)
      WHERE record_index IS NOT NULL;
    CREATE TABLE inbox_streams (
      namespace     TEXT COLLATE "C" NOT NULL,
      source_origin TEXT COLLATE "C" NOT NULL,
      next_seq      BIGINT NOT NULL CHECK (next_seq >= 1),
      PRIMARY KEY (namespace, source_origin)
    );
    CREATE TABLE inbox_items (
      cursor        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      namespace     TEXT COLLATE "C" NOT NULL,
      source_origin TEXT COLLATE "C" NOT NULL,
      source_index  BIGINT NOT NULL,
      UNIQUE (source_origin, source_index)
    );
    CREATE INDEX inbox_items_namespace ON inbox_items (namespace, cursor);
    CREATE TABLE inbox_scan_marks (
      namespace  TEXT COLLATE "C" PRIMARY KEY,
      next_index BIGINT NOT NULL CHECK (next_index >= 0)
    );
    `,
  ],
};

/**
 * How a SQLite inbox file (inbox-schema.ts, version 1) becomes these tables (`remembrancer
 * migrate`): same rows and values; the application inbox's cursors kept, and its identity moved
 * past every cursor SQLite handed out (consumers hold them; one is never reused).
 */
export const INBOX_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'inbox_messages',
    to: 'inbox_messages',
    columns: [
      'source_origin',
      'source_index',
      'message_id',
      'namespace',
      'seq',
      'action',
      'message',
      'reply_linked',
      'state',
      'delivery',
      'delivery_index',
      'record_index',
      'error_code',
      'error_message',
      'received_ms',
    ],
  },
  { from: 'inbox_streams', to: 'inbox_streams', columns: ['namespace', 'source_origin', 'next_seq'] },
  {
    from: 'inbox_items',
    to: 'inbox_items',
    columns: ['cursor', 'namespace', 'source_origin', 'source_index'],
    identity: 'cursor',
  },
  { from: 'inbox_scan_marks', to: 'inbox_scan_marks', columns: ['namespace', 'next_index'] },
];
