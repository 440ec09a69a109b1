import { RemembrancerError } from '@vaultmesh/core';
import { storageFailure } from '../storage-failure.js';
import { PgDatabase, type PgQueryable } from './pg-database.js';
import { migratePostgres, type PgSchema } from './pg-migrations.js';
import { NO_FENCE, type WriteFence } from './write-fence.js';

/** How a PostgreSQL store is opened. */
export interface PgStoreOptions {
  /** The database; a URL opens a pool of its own (closed with the store), a PgDatabase is shared and left open. */
  db: PgDatabase | string;
  /** Checked in the store's write transactions (the sequencing lease); NO_FENCE for one front end alone. */
  fence?: WriteFence;
}

/**
 * What every PostgreSQL store holds: its database, migrated to the store's schema, whether it
 * owns the pool, its fence, and whether it was closed — use after close() is SHUTTING_DOWN even
 * when the database is shared and still open for other stores.
 */
export class PgStoreHandle {
  readonly #db: PgDatabase;
  readonly #ownsDb: boolean;
  readonly #store: string;
  readonly fence: WriteFence;
  #closed = false;

  private constructor(db: PgDatabase, ownsDb: boolean, store: string, fence: WriteFence) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    this.#store = store;
    this.fence = fence;
  }

  /** Connects (for a URL) and brings the store's tables to the current schema; a failure closes an own pool. */
  static async open(options: PgStoreOptions, schema: PgSchema): Promise<PgStoreHandle> {
    const owns = typeof options.db === 'string';
    const db =
      typeof options.db === 'string' ? await PgDatabase.open({ url: options.db, what: schema.store }) : options.db;
    try {
      await migratePostgres(db, schema);
      return new PgStoreHandle(db, owns, schema.store, options.fence ?? NO_FENCE);
    } catch (error) {
      if (owns) await db.close().catch(() => undefined);
      throw storageFailure(`cannot open the PostgreSQL ${schema.store} database`, error);
    }
  }

  /** The database, unless the store was closed (SHUTTING_DOWN). */
  get db(): PgDatabase {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', `${this.#store} database is closed`);
    return this.#db;
  }

  /**
   * Runs fn in one transaction after the fence check (a front end that lost the lease writes
   * nothing). `lock` serialises it with every transaction taking the same name, across front
   * ends: for a read-check-write that rows alone cannot guard.
   */
  write<T>(fn: (tx: PgQueryable) => Promise<T>, lock?: string): Promise<T> {
    return this.db.transaction(
      async (tx) => {
        await this.fence.check(tx);
        return fn(tx);
      },
      lock === undefined ? {} : { lock },
    );
  }

  /** Idempotent; closes the pool only if the store opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) await this.#db.close();
  }
}
