import type BetterSqlite3 from 'better-sqlite3';
import { migrateDatabase } from '../storage/sqlite/sqlite-file.js';

/** 'VMA1': marks the file as a Remembrancer anchoring database. */
export const ANCHOR_APPLICATION_ID = 0x564d4131;

/**
 * Forward-only migrations; never edit a released entry, append a new one.
 *
 * - `anchor_due`: namespaces whose cadence came due at a target and whose newer sealed checkpoint
 *   is not anchored there yet (`sealed_size`: the sealed size when it came due).
 * - `anchor_anchored`: the largest size of each origin anchored at each target.
 * - `anchor_signed_roots`: the one epoch root this node signed per (target, epoch, mode): the
 *   safety record, written (and fsynced) before the signature leaves the node.
 * - `anchor_epochs`: epochs this node knows the outcome of: finalized (with everything a receipt
 *   needs), abandoned or empty. `node` is '' for collaborative epochs, the anchoring node for
 *   independent ones.
 * - `anchor_epoch_leaves`: which origin at which size each finalized epoch anchored (receipt lookup).
 * - `anchor_duplicates`: further anchors of an already finalized root (harmless, kept as evidence).
 * - `anchor_counters`, `anchor_failures`: what status and /metrics report.
 * - `anchor_due_seen` (migration 2): the latest cadence due time handled per (namespace, level,
 *   target). The cadence scheduler commits a due time to its own file before it tells anchoring;
 *   a crash between the two would lose the event, so start-up replays every level whose last due
 *   time is newer than the one seen here.
 * - `anchor_chain_attempts` (migration 3): every transaction signed for a chain anchor (issue 11),
 *   journaled before it is broadcast, with where the chain last had it; `anchor_chain_events`:
 *   the history of each (sent, included, reorged out, replaced, final), kept for status.
 */
export const ANCHOR_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE anchor_due (
    target      TEXT NOT NULL,
    namespace   TEXT NOT NULL,
    due_at_ms   INTEGER NOT NULL,
    sealed_size INTEGER NOT NULL CHECK (sealed_size >= 0),
    PRIMARY KEY (target, namespace)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_anchored (
    target TEXT NOT NULL,
    origin TEXT NOT NULL,
    size   INTEGER NOT NULL CHECK (size > 0),
    epoch  INTEGER NOT NULL,
    PRIMARY KEY (target, origin)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_signed_roots (
    target    TEXT NOT NULL,
    epoch     INTEGER NOT NULL,
    mode      TEXT NOT NULL CHECK (mode IN ('collaborative', 'independent')),
    root      TEXT NOT NULL,
    statement TEXT NOT NULL,
    leaves    TEXT NOT NULL,
    sig       TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    PRIMARY KEY (target, epoch, mode)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_epochs (
    target       TEXT NOT NULL,
    epoch        INTEGER NOT NULL,
    mode         TEXT NOT NULL CHECK (mode IN ('collaborative', 'independent')),
    node         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('finalized', 'abandoned', 'empty')),
    finalization TEXT,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (target, epoch, mode, node)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_epoch_leaves (
    origin     TEXT NOT NULL,
    size       INTEGER NOT NULL,
    target     TEXT NOT NULL,
    epoch      INTEGER NOT NULL,
    mode       TEXT NOT NULL,
    node       TEXT NOT NULL,
    leaf_index INTEGER NOT NULL,
    PRIMARY KEY (origin, target, epoch, mode, node)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_duplicates (
    target   TEXT NOT NULL,
    epoch    INTEGER NOT NULL,
    mode     TEXT NOT NULL,
    node     TEXT NOT NULL,
    digest   TEXT NOT NULL,
    evidence TEXT NOT NULL,
    received INTEGER NOT NULL,
    PRIMARY KEY (target, epoch, mode, node, digest)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_counters (
    name  TEXT NOT NULL,
    label TEXT NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (name, label)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_failures (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    epoch  INTEGER,
    reason TEXT NOT NULL,
    at_ms  INTEGER NOT NULL
  );
  CREATE INDEX anchor_failures_target ON anchor_failures (target, id);
  `,
  `
  CREATE TABLE anchor_due_seen (
    namespace TEXT NOT NULL,
    level     TEXT NOT NULL,
    target    TEXT NOT NULL,
    due_at_ms INTEGER NOT NULL,
    PRIMARY KEY (namespace, level, target)
  ) WITHOUT ROWID;
  `,
  `
  CREATE TABLE anchor_chain_attempts (
    target        TEXT NOT NULL,
    epoch         INTEGER NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('collaborative', 'independent')),
    node          TEXT NOT NULL,
    txid          TEXT NOT NULL,
    attempt       TEXT NOT NULL,
    state         TEXT NOT NULL
                  CHECK (state IN ('prepared', 'pending', 'included', 'final', 'missing', 'conflicted')),
    block_hash    TEXT,
    height        INTEGER,
    confirmations INTEGER NOT NULL DEFAULT 0,
    cost          TEXT,
    created_at_ms INTEGER NOT NULL,
    sent_at_ms    INTEGER,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (target, epoch, mode, node, txid)
  ) WITHOUT ROWID;
  CREATE TABLE anchor_chain_events (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    target TEXT NOT NULL,
    epoch  INTEGER NOT NULL,
    mode   TEXT NOT NULL,
    node   TEXT NOT NULL,
    txid   TEXT NOT NULL,
    event  TEXT NOT NULL,
    detail TEXT NOT NULL,
    at_ms  INTEGER NOT NULL
  );
  CREATE INDEX anchor_chain_events_epoch ON anchor_chain_events (target, epoch, id);
  `,
];

/** Brings the file to the current schema (migrateDatabase: foreign and newer files are refused). */
export function migrateAnchorDb(db: BetterSqlite3.Database): void {
  migrateDatabase(db, { applicationId: ANCHOR_APPLICATION_ID, migrations: ANCHOR_MIGRATIONS, what: 'anchoring' });
}
