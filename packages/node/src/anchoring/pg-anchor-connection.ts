import { RemembrancerError } from '@vaultmesh/core';
import type { PgDatabase, PgQueryable } from '../storage/postgres/pg-database.js';
import { NO_FENCE, type WriteFence } from '../storage/postgres/write-fence.js';

/**
 * The anchoring store's hold on its PostgreSQL database, shared by PgAnchorStorage and its chain
 * journal (the counterpart of the SQLite file's GuardedConnection): reads on the pool, writes in
 * transactions that check the write fence first, and SHUTTING_DOWN after close() even when the
 * database itself is shared and stays open.
 */
export class PgAnchorConnection {
  readonly #db: PgDatabase;
  readonly #ownsDb: boolean;
  readonly #fence: WriteFence;
  #closed = false;

  constructor(db: PgDatabase, ownsDb: boolean, fence: WriteFence = NO_FENCE) {
    this.#db = db;
    this.#ownsDb = ownsDb;
    this.#fence = fence;
  }

  /** Statements outside a transaction (each sees what is committed when it starts). */
  get reader(): PgQueryable {
    this.assertOpen();
    return this.#db;
  }

  /**
   * Runs fn in one transaction after the fence check (a front end that lost the lease writes
   * nothing). `lock` serialises it with every transaction taking the same name, across front
   * ends: for a read-check-write that rows alone cannot guard.
   */
  write<T>(fn: (tx: PgQueryable) => Promise<T>, lock?: string): Promise<T> {
    this.assertOpen();
    return this.#db.transaction(
      async (tx) => {
        await this.#fence.check(tx);
        return fn(tx);
      },
      lock === undefined ? {} : { lock },
    );
  }

  assertOpen(): void {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'anchoring database is closed');
  }

  /** Idempotent; closes the database only if this store opened it. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsDb) await this.#db.close();
  }
}
