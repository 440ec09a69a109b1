import type { TableCopy } from '../storage/migration/table-copy.js';
import type { PgSchema } from '../storage/postgres/pg-migrations.js';

/**
 * The cadence tables in PostgreSQL: cadence-schema.ts's, with BIGINT for milliseconds and
 * counts. Namespaces and levels are COLLATE "C" so due() and namespaces() order them by bytes,
 * as SQLite does. Forward-only: never edit a released entry, append one.
 */
export const PG_CADENCE_SCHEMA: PgSchema = {
  store: 'cadence',
  migrations: [
    `
    CREATE TABLE cadence_levels (
      namespace     TEXT COLLATE "C" NOT NULL,
      level         TEXT COLLATE "C" NOT NULL CHECK (level IN ('fast', 'strong', 'cold')),
      target        TEXT NOT NULL,
      every         TEXT NOT NULL,
      period_ms     BIGINT NOT NULL CHECK (period_ms > 0),
      confirmations INTEGER NOT NULL CHECK (confirmations >= 0),
      anchor_ms     BIGINT NOT NULL,
      next_due_ms   BIGINT NOT NULL,
      last_due_ms   BIGINT,
      due_count     BIGINT NOT NULL CHECK (due_count >= 0),
      PRIMARY KEY (namespace, level)
    );
    CREATE INDEX cadence_levels_next_due ON cadence_levels (next_due_ms, namespace, level);
    CREATE TABLE cadence_namespaces (
      namespace       TEXT COLLATE "C" PRIMARY KEY,
      effective_at_ms BIGINT NOT NULL
    );
    `,
  ],
};

/** How a SQLite cadence file (cadence-schema.ts, version 1) becomes these tables (`remembrancer migrate`): same rows and values. */
export const CADENCE_TABLE_COPIES: readonly TableCopy[] = [
  {
    from: 'cadence_levels',
    to: 'cadence_levels',
    columns: [
      'namespace',
      'level',
      'target',
      'every',
      'period_ms',
      'confirmations',
      'anchor_ms',
      'next_due_ms',
      'last_due_ms',
      'due_count',
    ],
  },
  { from: 'cadence_namespaces', to: 'cadence_namespaces', columns: ['namespace', 'effective_at_ms'] },
];
