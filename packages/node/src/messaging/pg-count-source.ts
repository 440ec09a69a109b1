import type { PgDatabase, PgQueryable } from '../storage/postgres/pg-database.js';
import type { StreamCountSource } from './stream-counter.js';

/**
 * A store's PostgreSQL tables read for stream counts. Not a connection of its own as on SQLite:
 * readers never block writers in PostgreSQL (MVCC), so the counts share the store's pool. A read
 * is one REPEATABLE READ, READ ONLY transaction: what one answer reads is one state of the
 * tables, as a SQLite read transaction gives. `reads` builds the queries on the transaction.
 * close() leaves the pool to its store.
 */
export function pgCountSource<Reads>(db: PgDatabase, reads: (tx: PgQueryable) => Reads): StreamCountSource<Reads> {
  return {
    read: (fn) =>
      db.transaction(async (tx) => {
        await tx.run('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
        return fn(reads(tx));
      }),
    close: () => undefined,
  };
}
