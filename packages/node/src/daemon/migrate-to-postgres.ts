import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CompactRange, RemembrancerError, bytesEqual, hashRange, leafHash } from '@vaultmesh/core';
import { ANCHOR_MIGRATIONS, ANCHOR_APPLICATION_ID } from '../anchoring/anchor-schema.js';
import { ANCHOR_DB_FILE } from '../anchoring/anchor-store.js';
import { ANCHOR_TABLE_COPIES, PG_ANCHOR_SCHEMA } from '../anchoring/pg-anchor-schema.js';
import { loadNode, type NodeIdentity } from '../config/node-config.js';
import { FEDERATION_DB_FILE } from '../federation/open-federation-storage.js';
import { FEDERATION_TABLE_COPIES, PG_FEDERATION_SCHEMA } from '../federation/pg-federation-schema.js';
import { INBOX_APPLICATION_ID, INBOX_MIGRATIONS } from '../messaging/inbox/inbox-schema.js';
import { INBOX_DB_FILE } from '../messaging/inbox/inbox-store.js';
import { INBOX_TABLE_COPIES, PG_INBOX_SCHEMA } from '../messaging/inbox/pg-inbox-schema.js';
import { OUTBOX_APPLICATION_ID, OUTBOX_MIGRATIONS } from '../messaging/outbox/outbox-schema.js';
import { OUTBOX_DB_FILE } from '../messaging/outbox/outbox-store.js';
import { OUTBOX_TABLE_COPIES, PG_OUTBOX_SCHEMA } from '../messaging/outbox/pg-outbox-schema.js';
import { CADENCE_APPLICATION_ID, CADENCE_MIGRATIONS } from '../namespaces/cadence-schema.js';
import { CADENCE_DB_FILE } from '../namespaces/cadence-store.js';
import { CADENCE_TABLE_COPIES, PG_CADENCE_SCHEMA } from '../namespaces/pg-cadence-schema.js';
import { assertSourceSchema } from '../storage/migration/source-schema.js';
import { copyTable, rowCounts, type TableCopy } from '../storage/migration/table-copy.js';
import { PgDatabase, migratePostgres, redactUrl, type PgQueryable, type PgSchema } from '../storage/postgres/index.js';
import { LOG_TABLE_COPIES, PG_LOG_SCHEMA } from '../storage/postgres/pg-log-schema.js';
import { PgLogStorage } from '../storage/postgres/pg-log-storage.js';
import { APPLICATION_ID as LOG_APPLICATION_ID, MIGRATIONS as LOG_MIGRATIONS } from '../storage/sqlite/schema.js';
import type { DatabaseSchema } from '../storage/sqlite/sqlite-file.js';
import { splitHashes } from '../storage/stored-hashes.js';
import { PG_WITNESS_SCHEMA, WITNESS_TABLE_COPIES } from '../witness/pg-witness-schema.js';
import { WITNESS_APPLICATION_ID, WITNESS_MIGRATIONS } from '../witness/witness-schema.js';
import { WITNESS_DB_FILE } from '../witness/witness.js';
import { postgresOwner } from './postgres-owner.js';

/** One SQLite database of a node and where its tables go. */
export interface StoreMigration {
  what: string;
  /** The SQLite file (absent: the node never used the store; its PostgreSQL tables are made empty). */
  file: string;
  /** What the SQLite file must be (mark and version); the federation file has neither, only its tables. */
  sqlite: DatabaseSchema | undefined;
  schema: PgSchema;
  tables: readonly TableCopy[];
}

export interface TableReport {
  store: string;
  from: string;
  to: string;
  rows: number;
}

export interface NamespaceReport {
  id: string;
  size: number;
  /** Hex root recomputed from the entries now in PostgreSQL; equal to the SQLite tree's and to its checkpoint's. */
  root: string;
}

export interface MigrationReport {
  tables: TableReport[];
  namespaces: NamespaceReport[];
}

export interface MigrateOptions {
  dataDir: string;
  url: string;
  onProgress?: (event: { table: string; rows: number }) => void;
}

/** Every SQLite database a node keeps, the log first (verifyLogs reads it). */
export function storesOf(dataDir: string): StoreMigration[] {
  const identity = loadNode(dataDir);
  const sqlite = (what: string, applicationId: number, migrations: readonly string[]): DatabaseSchema => ({
    what,
    applicationId,
    migrations,
  });
  return [
    {
      what: 'log',
      file: identity.dbPath,
      sqlite: sqlite('log', LOG_APPLICATION_ID, LOG_MIGRATIONS),
      schema: PG_LOG_SCHEMA,
      tables: LOG_TABLE_COPIES,
    },
    {
      what: 'witness',
      file: join(dataDir, WITNESS_DB_FILE),
      sqlite: sqlite('witness', WITNESS_APPLICATION_ID, WITNESS_MIGRATIONS),
      schema: PG_WITNESS_SCHEMA,
      tables: WITNESS_TABLE_COPIES,
    },
    {
      what: 'federation',
      file: join(dataDir, FEDERATION_DB_FILE),
      sqlite: undefined,
      schema: PG_FEDERATION_SCHEMA,
      tables: FEDERATION_TABLE_COPIES,
    },
    {
      what: 'cadence',
      file: join(dataDir, CADENCE_DB_FILE),
      sqlite: sqlite('cadence', CADENCE_APPLICATION_ID, CADENCE_MIGRATIONS),
      schema: PG_CADENCE_SCHEMA,
      tables: CADENCE_TABLE_COPIES,
    },
    {
      what: 'anchoring',
      file: join(dataDir, ANCHOR_DB_FILE),
      sqlite: sqlite('anchoring', ANCHOR_APPLICATION_ID, ANCHOR_MIGRATIONS),
      schema: PG_ANCHOR_SCHEMA,
      tables: ANCHOR_TABLE_COPIES,
    },
    {
      what: 'outbox',
      file: join(dataDir, OUTBOX_DB_FILE),
      sqlite: sqlite('outbox', OUTBOX_APPLICATION_ID, OUTBOX_MIGRATIONS),
      schema: PG_OUTBOX_SCHEMA,
      tables: OUTBOX_TABLE_COPIES,
    },
    {
      what: 'inbox',
      file: join(dataDir, INBOX_DB_FILE),
      sqlite: sqlite('inbox', INBOX_APPLICATION_ID, INBOX_MIGRATIONS),
      schema: PG_INBOX_SCHEMA,
      tables: INBOX_TABLE_COPIES,
    },
  ];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Refuses to copy a node that answers at its listen address: what it writes meanwhile would be lost. */
async function assertStopped(listen: string): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), 1_000);
  try {
    const r = await fetch(`http://${listen}/healthz`, { signal: controller.signal });
    await r.body?.cancel();
  } catch {
    return; // nothing answers: stopped (or elsewhere)
  } finally {
    clearTimeout(timer);
  }
  throw new RemembrancerError(
    'CONFIG_INVALID',
    `a node answers at ${listen}: stop it before migrating (what it writes during the copy would be lost)`,
  );
}

/**
 * `remembrancer migrate --from DIR --to postgres://…` (issue 14): copies every table of a stopped
 * node's SQLite databases into an empty PostgreSQL database in one transaction (all or nothing: a
 * failed copy leaves the target empty and can be run again), then verifies it: row counts table
 * by table, and for every namespace the root recomputed from the entries now in PostgreSQL equals
 * the SQLite tree's root and its latest checkpoint's (when that checkpoint covers the whole tree).
 */
export async function migrateToPostgres(options: MigrateOptions): Promise<MigrationReport> {
  const identity = loadNode(options.dataDir);
  await assertStopped(identity.config.listen);
  const stores = storesOf(options.dataDir);
  // The SQLite files first: one the copy would misread is refused before the target is touched.
  const sources = new Map<StoreMigration, Database.Database>();
  try {
    for (const s of stores.filter((x) => existsSync(x.file))) {
      const db = new Database(s.file, { readonly: true, fileMustExist: true });
      sources.set(s, db);
      assertSourceSchema(db, s.sqlite, s.tables, s.file);
    }
    return await copyInto(options, identity, stores, sources);
  } finally {
    for (const db of sources.values()) db.close();
  }
}

/** The copy and its verification, into the target database. */
async function copyInto(
  options: MigrateOptions,
  identity: NodeIdentity,
  stores: readonly StoreMigration[],
  sources: ReadonlyMap<StoreMigration, Database.Database>,
): Promise<MigrationReport> {
  const pg = await PgDatabase.open({ url: options.url, what: 'target' });
  try {
    for (const s of stores) await migratePostgres(pg, s.schema);
    for (const s of stores)
      for (const t of s.tables) {
        const r = await pg.row<{ any: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${t.to}) AS any`);
        if (r?.any === true) {
          throw new RemembrancerError(
            'CONFIG_INVALID',
            `${redactUrl(options.url)} already holds data (${t.to}); migrate into a new, empty database`,
          );
        }
      }
    // Records the owner (and refuses a database another node claimed).
    await (await PgLogStorage.open({ db: pg, owner: postgresOwner(identity) })).close();

    // One read transaction per file: the copy and the counts see one snapshot of it.
    for (const db of sources.values()) db.prepare('BEGIN').run();
    const tables: TableReport[] = [];
    await pg.transaction(async (tx) => {
      for (const s of stores)
        for (const t of s.tables) {
          const db = sources.get(s);
          const rows = db === undefined ? 0 : await copyOne(db, tx, s, t, options);
          tables.push({ store: s.what, from: t.from, to: t.to, rows });
        }
    });
    for (const [s, db] of sources)
      for (const t of s.tables) {
        const c = await rowCounts(db, pg, t);
        if (c.sqlite !== c.postgres)
          throw new RemembrancerError(
            'STORAGE_FAILURE',
            `${s.what}: ${t.from} has ${c.sqlite} rows, ${t.to} ${c.postgres}`,
          );
      }
    const log = sources.get(stores[0]!);
    const namespaces = log === undefined ? [] : await verifyLogs(log, pg);
    return { tables, namespaces };
  } finally {
    await pg.close();
  }
}

/** One table's copy; a failure names the table (PostgreSQL's message names the value it refused). */
async function copyOne(
  db: Database.Database,
  tx: PgQueryable,
  s: StoreMigration,
  t: TableCopy,
  options: MigrateOptions,
): Promise<number> {
  try {
    return await copyTable(db, tx, t, (table, n) => options.onProgress?.({ table, rows: n }));
  } catch (cause) {
    // The cause (often PostgreSQL refusing a value, e.g. text in a BIGINT column) is a
    // STORAGE_FAILURE already; say which table, and that the rollback leaves the target empty.
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new RemembrancerError(
      'STORAGE_FAILURE',
      `${s.what}: copying ${t.from} into ${t.to} failed, nothing was kept (fix the row and run migrate again): ${detail}`,
      { cause },
    );
  }
}

/** Every namespace's root, recomputed from the entries in PostgreSQL, against the SQLite tree and checkpoint. */
async function verifyLogs(sqlite: Database.Database, pg: PgDatabase): Promise<NamespaceReport[]> {
  const out: NamespaceReport[] = [];
  const rows = sqlite
    .prepare(
      'SELECT n.key, n.id, t.size, t.compact_range FROM namespaces n JOIN tree_state t ON t.ns = n.key ORDER BY n.key',
    )
    .all() as { key: number; id: string; size: number; compact_range: Uint8Array }[];
  const latest = sqlite.prepare('SELECT size, root FROM checkpoints WHERE ns = ? ORDER BY size DESC LIMIT 1');
  const page = 10_000;
  for (const ns of rows) {
    const expected = hashRange(splitHashes(ns.compact_range));
    const range = new CompactRange();
    for (let from = 0; from < ns.size; from += page) {
      const entries = await pg.rows<{ idx: number; data: Uint8Array }>(
        'SELECT idx, data FROM log_entries WHERE ns = $1 AND idx >= $2 AND idx < $3 ORDER BY idx',
        [ns.key, from, Math.min(ns.size, from + page)],
      );
      for (const e of entries) {
        if (e.idx !== range.size)
          throw new RemembrancerError('STORAGE_FAILURE', `${ns.id}: entry ${range.size} is missing in PostgreSQL`);
        range.append(leafHash(e.data));
      }
    }
    if (range.size !== ns.size)
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${ns.id}: ${range.size} entries in PostgreSQL, the tree has ${ns.size}`,
      );
    const root = range.root();
    if (!bytesEqual(root, expected))
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${ns.id}: the root of the copied entries differs from the SQLite tree's`,
      );
    const cp = latest.get(ns.key) as { size: number; root: Uint8Array } | undefined;
    if (cp !== undefined && cp.size === ns.size && !bytesEqual(cp.root, root))
      throw new RemembrancerError('STORAGE_FAILURE', `${ns.id}: the root differs from the latest checkpoint's`);
    out.push({ id: ns.id, size: ns.size, root: hex(root) });
  }
  return out;
}
