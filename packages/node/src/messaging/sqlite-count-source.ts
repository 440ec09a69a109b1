import Database from 'better-sqlite3';
import { storageFailure } from '../storage/sqlite/sqlite-file.js';
import type { StreamCountSource } from './stream-counter.js';

/**
 * A SQLite store's file read for stream counts on a read-only connection of its own (WAL: it
 * never blocks the store's writes, nor they it). A read is one transaction held across its
 * awaits (BEGIN … COMMIT: StreamCounter runs one read at a time), so what one answer reads is one
 * state of the file. `reads` builds the statements on the connection.
 */
export function sqliteCountSource<Reads>(
  path: string,
  what: string,
  reads: (db: Database.Database) => Reads,
): StreamCountSource<Reads> {
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true, timeout: 5000 });
  } catch (cause) {
    throw storageFailure(`cannot open ${what} database ${path} to count streams`, cause);
  }
  const r = reads(db);
  return {
    async read(fn) {
      try {
        db.exec('BEGIN');
        try {
          return await fn(r);
        } finally {
          db.exec('COMMIT');
        }
      } catch (cause) {
        throw storageFailure(`${what} stream counts failed`, cause);
      }
    },
    close: () => db.close(),
  };
}
