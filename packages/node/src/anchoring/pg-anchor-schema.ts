import type { TableCopy } from '../storage/migration/table-copy.js';
import type { PgSchema } from '../storage/postgres/pg-migrations.js';

/**
 * The anchoring store's tables in PostgreSQL: those of the SQLite anchoring file (anchor-schema.ts,
 * version 3, where each table is described), with the same names (all `anchor_`), BIGINT for
 * numbers and an identity column where SQLite orders by rowid. Forward-only: never edit a
 * released entry, append one.
 *
 * Text that queries order by is COLLATE "C" (byte order, as SQLite's BINARY), so both backends
 * list namespaces, modes, nodes and counters in the same order whatever the database's locale.
 * Beyond the primary keys: finalized epochs by target (lastFinalized), failures and chain events
 * by target and id (newest first, pruning), attempts by target and state (in flight, costs).
 */
export const PG_ANCHOR_SCHEMA: PgSchema = {
  store: 'anchor',
  migrations: [
    `
    CREATE TABLE anchor_due (
      target      TEXT COLLATE "C" NOT NULL,
      namespace   TEXT COLLATE "C" NOT NULL,
      due_at_ms   BIGINT NOT NULL,
      sealed_size BIGINT NOT NULL CHECK (sealed_size >= 0),
      PRIMARY KEY (target, namespace)
    );
    CREATE TABLE anchor_due_seen (
      namespace TEXT COLLATE "C" NOT NULL,
      level     TEXT COLLATE "C" NOT NULL,
      target    TEXT COLLATE "C" NOT NULL,
      due_at_ms BIGINT NOT NULL,
      PRIMARY KEY (namespace, level, target)
    );
    CREATE TABLE anchor_anchored (
      target TEXT COLLATE "C" NOT NULL,
      origin TEXT COLLATE "C" NOT NULL,
      size   BIGINT NOT NULL CHECK (size > 0),
      epoch  BIGINT NOT NULL,
      PRIMARY KEY (target, origin)
    );
    CREATE TABLE anchor_signed_roots (
      target    TEXT COLLATE "C" NOT NULL,
      epoch     BIGINT NOT NULL,
      mode      TEXT COLLATE "C" NOT NULL CHECK (mode IN ('collaborative', 'independent')),
      root      TEXT NOT NULL,
      statement TEXT NOT NULL,
      leaves    TEXT NOT NULL,
      sig       TEXT NOT NULL,
      signed_at TEXT NOT NULL,
      PRIMARY KEY (target, epoch, mode)
    );
    CREATE TABLE anchor_epochs (
      target       TEXT COLLATE "C" NOT NULL,
      epoch        BIGINT NOT NULL,
      mode         TEXT COLLATE "C" NOT NULL CHECK (mode IN ('collaborative', 'independent')),
      node         TEXT COLLATE "C" NOT NULL,
      status       TEXT NOT NULL CHECK (status IN ('finalized', 'abandoned', 'empty')),
      finalization TEXT,
      updated_at   BIGINT NOT NULL,
      PRIMARY KEY (target, epoch, mode, node)
    );
    CREATE INDEX anchor_epochs_finalized ON anchor_epochs (target, epoch DESC, mode, node)
      WHERE status = 'finalized';
    CREATE TABLE anchor_epoch_leaves (
      origin     TEXT COLLATE "C" NOT NULL,
      size       BIGINT NOT NULL,
      target     TEXT COLLATE "C" NOT NULL,
      epoch      BIGINT NOT NULL,
      mode       TEXT COLLATE "C" NOT NULL,
      node       TEXT COLLATE "C" NOT NULL,
      leaf_index BIGINT NOT NULL,
      PRIMARY KEY (origin, target, epoch, mode, node)
    );
    CREATE TABLE anchor_duplicates (
      target   TEXT COLLATE "C" NOT NULL,
      epoch    BIGINT NOT NULL,
      mode     TEXT COLLATE "C" NOT NULL,
      node     TEXT COLLATE "C" NOT NULL,
      digest   TEXT COLLATE "C" NOT NULL,
      evidence TEXT NOT NULL,
      received BIGINT NOT NULL,
      PRIMARY KEY (target, epoch, mode, node, digest)
    );
    CREATE TABLE anchor_counters (
      name  TEXT COLLATE "C" NOT NULL,
      label TEXT COLLATE "C" NOT NULL,
      value BIGINT NOT NULL,
      PRIMARY KEY (name, label)
    );
    CREATE TABLE anchor_failures (
      id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      target TEXT COLLATE "C" NOT NULL,
      epoch  BIGINT,
      reason TEXT NOT NULL,
      at_ms  BIGINT NOT NULL
    );
    CREATE INDEX anchor_failures_target ON anchor_failures (target, id);
    CREATE TABLE anchor_chain_attempts (
      target        TEXT COLLATE "C" NOT NULL,
      epoch         BIGINT NOT NULL,
      mode          TEXT COLLATE "C" NOT NULL CHECK (mode IN ('collaborative', 'independent')),
      node          TEXT COLLATE "C" NOT NULL,
      txid          TEXT COLLATE "C" NOT NULL,
      attempt       TEXT NOT NULL,
      state         TEXT NOT NULL
                    CHECK (state IN ('prepared', 'pending', 'included', 'final', 'missing', 'conflicted')),
      block_hash    TEXT,
      height        BIGINT,
      confirmations BIGINT NOT NULL DEFAULT 0,
      cost          TEXT,
      created_at_ms BIGINT NOT NULL,
      sent_at_ms    BIGINT,
      updated_at_ms BIGINT NOT NULL,
      PRIMARY KEY (target, epoch, mode, node, txid)
    );
    CREATE INDEX anchor_chain_attempts_state ON anchor_chain_attempts (target, state);
    CREATE TABLE anchor_chain_events (
      id     BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      target TEXT COLLATE "C" NOT NULL,
      epoch  BIGINT NOT NULL,
      mode   TEXT NOT NULL,
      node   TEXT NOT NULL,
      txid   TEXT NOT NULL,
      event  TEXT NOT NULL,
      detail TEXT NOT NULL,
      at_ms  BIGINT NOT NULL
    );
    CREATE INDEX anchor_chain_events_epoch ON anchor_chain_events (target, epoch, id);
    CREATE INDEX anchor_chain_events_target ON anchor_chain_events (target, id);
    `,
  ],
};

/**
 * How a SQLite anchoring file (anchor-schema.ts, version 3, with the chain journal) becomes these
 * tables (`remembrancer migrate`): same names, rows and values; the ids of failures and chain
 * events kept (they order them, newest first, and pruning goes by them).
 */
export const ANCHOR_TABLE_COPIES: readonly TableCopy[] = [
  { from: 'anchor_due', to: 'anchor_due', columns: ['target', 'namespace', 'due_at_ms', 'sealed_size'] },
  { from: 'anchor_due_seen', to: 'anchor_due_seen', columns: ['namespace', 'level', 'target', 'due_at_ms'] },
  { from: 'anchor_anchored', to: 'anchor_anchored', columns: ['target', 'origin', 'size', 'epoch'] },
  {
    from: 'anchor_signed_roots',
    to: 'anchor_signed_roots',
    columns: ['target', 'epoch', 'mode', 'root', 'statement', 'leaves', 'sig', 'signed_at'],
  },
  {
    from: 'anchor_epochs',
    to: 'anchor_epochs',
    columns: ['target', 'epoch', 'mode', 'node', 'status', 'finalization', 'updated_at'],
  },
  {
    from: 'anchor_epoch_leaves',
    to: 'anchor_epoch_leaves',
    columns: ['origin', 'size', 'target', 'epoch', 'mode', 'node', 'leaf_index'],
  },
  {
    from: 'anchor_duplicates',
    to: 'anchor_duplicates',
    columns: ['target', 'epoch', 'mode', 'node', 'digest', 'evidence', 'received'],
  },
  { from: 'anchor_counters', to: 'anchor_counters', columns: ['name', 'label', 'value'] },
  {
    from: 'anchor_failures',
    to: 'anchor_failures',
    columns: ['id', 'target', 'epoch', 'reason', 'at_ms'],
    identity: 'id',
  },
  {
    from: 'anchor_chain_attempts',
    to: 'anchor_chain_attempts',
    columns: [
      'target',
      'epoch',
      'mode',
      'node',
      'txid',
      'attempt',
      'state',
      'block_hash',
      'height',
      'confirmations',
      'cost',
      'created_at_ms',
      'sent_at_ms',
      'updated_at_ms',
    ],
  },
  {
    from: 'anchor_chain_events',
    to: 'anchor_chain_events',
    columns: ['id', 'target', 'epoch', 'mode', 'node', 'txid', 'event', 'detail', 'at_ms'],
    identity: 'id',
  },
];
