import type { TableCopy } from '../../storage/migration/table-copy.js';
import type { PgSchema } from '../../storage/postgres/pg-migrations.js';

/**
 * The outbox's tables in a node's shared PostgreSQL database: the same rows, constraints and
 * partial indexes as the SQLite file (outbox-schema.ts tells what each holds), in one migration
 * (the SQLite history is not replayed). Text keys are COLLATE "C": streams are listed in byte
 * order of their keys, as SQLite's BINARY collation lists them, whatever the database's locale.
 * Forward-only: never edit a released entry, append a new one.
 */
export const PG_OUTBOX_SCHEMA: PgSchema = {
  store: 'outbox',
  migrations: [
    `
    CREATE TABLE outbox_messages (
      id               TEXT COLLATE "C" PRIMARY KEY,
      namespace        TEXT COLLATE "C" NOT NULL,
      idx              BIGINT NOT NULL CHECK (idx >= 0),
      target_node      TEXT COLLATE "C" NOT NULL,
      target_namespace TEXT COLLATE "C" NOT NULL,
      seq              BIGINT NOT NULL CHECK (seq >= 1),
      action           TEXT NOT NULL,
      operation        TEXT NOT NULL,
      sent_at          TEXT NOT NULL,
      expires_at       TEXT NOT NULL,
      in_reply_to      TEXT,
      state            TEXT NOT NULL CHECK (state IN ('queued', 'sealed', 'delivered', 'refused', 'expired')),
      attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      next_attempt_ms  BIGINT NOT NULL DEFAULT 0,
      error_code       TEXT,
      error_message    TEXT,
      delivery_index   BIGINT,
      delivery_entry   TEXT,
      receipt          TEXT,
      receipt_attempts INTEGER NOT NULL DEFAULT 0 CHECK (receipt_attempts >= 0),
      UNIQUE (namespace, target_node, target_namespace, seq),
      UNIQUE (namespace, idx)
    );
    CREATE INDEX outbox_queued ON outbox_messages (namespace, idx) WHERE state = 'queued';
    CREATE INDEX outbox_sealed ON outbox_messages (namespace, target_node, target_namespace, seq)
      WHERE state = 'sealed';
    CREATE INDEX outbox_receipts ON outbox_messages (namespace, target_node, target_namespace, seq)
      WHERE state = 'delivered' AND receipt IS NULL;
    CREATE TABLE outbox_scan (
      namespace  TEXT COLLATE "C" PRIMARY KEY,
      next_index BIGINT NOT NULL CHECK (next_index >= 0)
    );
    CREATE TABLE outbox_replies (
      query_id TEXT COLLATE "C" NOT NULL,
      reply_id TEXT COLLATE "C" NOT NULL,
      PRIMARY KEY (query_id, reply_id)
    );
    `,
  ],
};

/** How a SQLite outbox file (outbox-schema.ts, version 1) becomes these tables (`remembrancer migrate`): same rows and values. */
export const OUTBOX_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'outbox_messages',
    to: 'outbox_messages',
    columns: [
      'id',
      'namespace',
      'idx',
      'target_node',
      'target_namespace',
      'seq',
      'action',
      'operation',
      'sent_at',
      'expires_at',
      'in_reply_to',
      'state',
      'attempts',
      'next_attempt_ms',
      'error_code',
      'error_message',
      'delivery_index',
      'delivery_entry',
      'receipt',
      'receipt_attempts',
    ],
  },
  { from: 'outbox_scan', to: 'outbox_scan', columns: ['namespace', 'next_index'] },
  { from: 'outbox_replies', to: 'outbox_replies', columns: ['query_id', 'reply_id'] },
];
