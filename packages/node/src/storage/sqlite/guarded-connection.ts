import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import { storageFailure } from './sqlite-file.js';

/**
 * A store's one connection, closed once: use after close() is SHUTTING_DOWN (a late timer or
 * request during shutdown, not a storage fault), and driver errors surface as STORAGE_FAILURE
 * naming what failed. `what` names the database in messages ('witness', 'cadence').
 */
export class GuardedConnection {
  readonly #db: Database.Database;
  readonly #what: string;
  #closed = false;

  constructor(db: Database.Database, what: string) {
    this.#db = db;
    this.#what = what;
  }

  /**
   * Runs fn in one IMMEDIATE transaction: the write lock is taken before the first read, so what
   * fn checks is what its writes replace, across connections and processes. A throw rolls back
   * everything fn wrote.
   */
  atomically<T>(fn: () => T): T {
    this.assertOpen();
    const tx = this.#db.transaction(fn);
    try {
      return tx.immediate();
    } catch (cause) {
      throw storageFailure(`${this.#what} transaction failed`, cause);
    }
  }

  read<T>(fn: () => T): T {
    return this.run(`${this.#what} database read failed`, fn);
  }

  /** Runs fn; a failure becomes STORAGE_FAILURE with `failure` as its context. */
  run<T>(failure: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (cause) {
      throw storageFailure(failure, cause);
    }
  }

  assertOpen(): void {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', `${this.#what} database is closed`);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#db.close();
  }
}
