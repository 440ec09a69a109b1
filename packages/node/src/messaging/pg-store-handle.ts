import { RemembrancerError } from '@vaultmesh/core';
import { PgDatabase } from '../storage/postgres/pg-database.js';
import { migratePostgres, type PgSchema } from '../storage/postgres/pg-migrations.js';
import { storageFailure } from '../storage/storage-failure.js';

/**
 * A PostgreSQL store's hold on its database: opened from a URL (its own pool, closed with it) or
 * given a shared PgDatabase (left open), migrated to the store's schema, and closed once — after
 * close() the store answers SHUTTING_DOWN even while a shared pool stays open.
 */
export class PgStoreHandle {
  #closed = false;

  private constructor(
    private readonly db: PgDatabase,
    private readonly owns: boolean,
    private readonly what: string,
  ) {}

  /** Connects (if given a URL) and brings the store's tables to the current version. */
  static async open(from: PgDatabase | string, schema: PgSchema): Promise<PgStoreHandle> {
    const what = schema.store;
    const owns = typeof from === 'string';
    const db = typeof from === 'string' ? await PgDatabase.open({ url: from, what }) : from;
    try {
      await migratePostgres(db, schema);
      return new PgStoreHandle(db, owns, what);
    } catch (error) {
      if (owns) await db.close().catch(() => undefined);
      throw storageFailure(`cannot open the PostgreSQL ${what} database`, error);
    }
  }

  /** The database, unless the store was closed (SHUTTING_DOWN). */
  get live(): PgDatabase {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', `${this.what} database is closed`);
    return this.db;
  }

  /** Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.owns) await this.db.close();
  }
}
