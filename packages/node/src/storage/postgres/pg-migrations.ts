import { RemembrancerError } from '@vaultmesh/core';
import type { PgDatabase } from './pg-database.js';

/**
 * The versioned schema of one store in a PostgreSQL database, the counterpart of a SQLite file's
 * user_version (sqlite-file.ts). Stores share one database (a node's front ends all point at it),
 * so each store keeps its own version row in `remembrancer_schema`, and its tables carry its
 * prefix (log_, witness_, federation_ …).
 */
export interface PgSchema {
  /** The store's name and version row: 'log', 'witness', 'federation' … */
  readonly store: string;
  /**
   * Forward-only; migration i brings the version from i to i+1. Never edit a released entry:
   * append a new one.
   */
  readonly migrations: readonly string[];
}

/** One advisory lock for every migration of every store: front ends starting together take turns. */
const MIGRATION_LOCK = 'remembrancer:migrations';

/**
 * Brings the store's tables to the current version. Each migration commits in its own transaction
 * under one advisory lock and first re-reads the version: front ends starting at once do not both
 * migrate, and a failing migration keeps the ones before it. A database of a newer build is
 * refused (STORAGE_FAILURE) — rolling back a node's version must not write an older schema over
 * a newer one.
 */
export async function migratePostgres(db: PgDatabase, schema: PgSchema): Promise<void> {
  const { store, migrations } = schema;
  const current = migrations.length;
  if ((await postgresSchemaVersion(db, store)) === current) return;

  for (;;) {
    const advanced = await db.transaction(
      async (tx) => {
        await tx.run(
          `CREATE TABLE IF NOT EXISTS remembrancer_schema (
             store   TEXT PRIMARY KEY,
             version INTEGER NOT NULL CHECK (version >= 0)
           )`,
        );
        const r = await tx.row<{ version: number }>('SELECT version FROM remembrancer_schema WHERE store = $1', [
          store,
        ]);
        const version = r?.version ?? 0;
        if (version > current) {
          throw new RemembrancerError(
            'STORAGE_FAILURE',
            `${store} schema version ${version} in PostgreSQL is newer than this build understands (${current}); upgrade the node`,
          );
        }
        if (version === current) return false;
        await tx.run(migrations[version]!);
        await tx.run(
          `INSERT INTO remembrancer_schema (store, version) VALUES ($1, $2)
           ON CONFLICT (store) DO UPDATE SET version = EXCLUDED.version`,
          [store, version + 1],
        );
        return true;
      },
      { lock: MIGRATION_LOCK },
    );
    if (!advanced) return;
  }
}

/** The store's schema version in the database (0: none of its tables yet). */
export async function postgresSchemaVersion(db: PgDatabase, store: string): Promise<number> {
  const exists = await db.row<{ t: string | null }>(`SELECT to_regclass('remembrancer_schema')::text AS t`);
  if (exists?.t == null) return 0;
  const r = await db.row<{ version: number }>('SELECT version FROM remembrancer_schema WHERE store = $1', [store]);
  return r?.version ?? 0;
}
