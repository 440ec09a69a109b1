import pg from 'pg';
import { RemembrancerError } from '@vaultmesh/core';
import { storageFailure } from '../storage-failure.js';

/** A scalar statement parameter; Uint8Array goes over the wire as bytea. */
export type SqlScalar = string | number | bigint | boolean | Uint8Array | null;
/** What a statement parameter may be: a scalar, or an array of them (for unnest: one round trip per batch). */
export type SqlParam = SqlScalar | readonly SqlScalar[];

function wire(v: SqlScalar): unknown {
  // node-postgres sends Buffers as bytea; a plain Uint8Array would go out as text.
  return v instanceof Uint8Array && !Buffer.isBuffer(v) ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : v;
}

/** Statements on the pool or inside one transaction: the same three ways to ask. */
export interface PgQueryable {
  /** Every row. */
  rows<R>(sql: string, params?: readonly SqlParam[]): Promise<R[]>;
  /** The first row, or undefined. */
  row<R>(sql: string, params?: readonly SqlParam[]): Promise<R | undefined>;
  /** Runs a statement; resolves to the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

export interface PgDatabaseOptions {
  /** postgres://user@host/db?… — any URL node-postgres takes, including ?host=/socket/dir. */
  url: string;
  /** Names the database in errors: 'log', 'witness', 'federation' … */
  what: string;
  /** Pool size (default 10). A front end's connections are this many, whatever its load. */
  maxConnections?: number;
  /** Server-side bound on one statement, ms (default 30 s): a stuck query fails instead of hanging a request. */
  statementTimeoutMs?: number;
  /** Bound on waiting for a connection, ms (default 10 s). */
  connectTimeoutMs?: number;
  /** Shows in pg_stat_activity (default 'remembrancer'). */
  applicationName?: string;
  /** Told of errors on idle connections (a restarted server); the next statement reports them too. */
  onIdleError?: (error: Error) => void;
}

const INT8_OID = 20;

/**
 * BIGINT columns arrive as numbers: sizes, indices and counts of a log stay below 2^53 (a
 * billion entries is 2^30). A value past that is refused rather than rounded.
 */
function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new RemembrancerError('STORAGE_FAILURE', `bigint ${text} exceeds 2^53`);
  return n;
}

const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): (value: string) => unknown {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format) as (value: string) => unknown;
  },
};

function params(values: readonly SqlParam[] | undefined): unknown[] | undefined {
  if (values === undefined) return undefined;
  return values.map((v) => (Array.isArray(v) ? (v as readonly SqlScalar[]).map(wire) : wire(v as SqlScalar)));
}

class Statements implements PgQueryable {
  constructor(
    private readonly target: pg.Pool | pg.PoolClient,
    private readonly failure: string,
    private readonly assertOpen: () => void,
  ) {}

  async rows<R>(sql: string, values?: readonly SqlParam[]): Promise<R[]> {
    this.assertOpen();
    try {
      return (await this.target.query({ text: sql, values: params(values) })).rows as R[];
    } catch (cause) {
      throw storageFailure(this.failure, cause);
    }
  }

  async row<R>(sql: string, values?: readonly SqlParam[]): Promise<R | undefined> {
    return (await this.rows<R>(sql, values))[0];
  }

  async run(sql: string, values?: readonly SqlParam[]): Promise<number> {
    this.assertOpen();
    try {
      return (await this.target.query({ text: sql, values: params(values) })).rowCount ?? 0;
    } catch (cause) {
      throw storageFailure(this.failure, cause);
    }
  }
}

export interface TransactionOptions {
  /**
   * Serialises this transaction with every other one taking the same lock name, across front ends
   * (pg_advisory_xact_lock, held to commit or rollback): the PostgreSQL form of SQLite's IMMEDIATE
   * transaction for a read-check-write that rows alone cannot guard (e.g. an insert decided by a
   * count).
   */
  lock?: string;
}

/**
 * A pool of connections to one PostgreSQL database. Every failure is STORAGE_FAILURE naming what
 * failed (a RemembrancerError thrown inside a transaction passes through, after rollback); use
 * after close() is SHUTTING_DOWN. Transactions run on one connection and roll back on any throw.
 */
export class PgDatabase implements PgQueryable {
  readonly what: string;
  /** The URL it connects to (a listener opens its own connection with it). */
  readonly url: string;
  readonly #pool: pg.Pool;
  readonly #statements: Statements;
  #closed = false;

  private constructor(pool: pg.Pool, what: string, url: string) {
    this.#pool = pool;
    this.what = what;
    this.url = url;
    this.#statements = new Statements(pool, `${what} database statement failed`, () => this.assertOpen());
  }

  /** Connects once (so a wrong URL or a down server fails here, clearly) and returns the pool. */
  static async open(options: PgDatabaseOptions): Promise<PgDatabase> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.maxConnections ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      statement_timeout: options.statementTimeoutMs ?? 30_000,
      application_name: options.applicationName ?? 'remembrancer',
      types,
    });
    // An idle connection's error (server restart) must not crash the process: pg emits it on the pool.
    pool.on('error', (error) => options.onIdleError?.(error));
    try {
      const client = await pool.connect();
      client.release();
    } catch (cause) {
      await pool.end().catch(() => undefined);
      throw storageFailure(`cannot connect to the ${options.what} database at ${redactUrl(options.url)}`, cause);
    }
    return new PgDatabase(pool, options.what, options.url);
  }

  rows<R>(sql: string, values?: readonly SqlParam[]): Promise<R[]> {
    return this.#statements.rows<R>(sql, values);
  }

  row<R>(sql: string, values?: readonly SqlParam[]): Promise<R | undefined> {
    return this.#statements.row<R>(sql, values);
  }

  run(sql: string, values?: readonly SqlParam[]): Promise<number> {
    return this.#statements.run(sql, values);
  }

  /**
   * Runs fn in one transaction (READ COMMITTED) on one connection: committed if fn resolves,
   * rolled back if it throws; the throw surfaces as STORAGE_FAILURE unless it is a RemembrancerError.
   */
  async transaction<T>(fn: (tx: PgQueryable) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
    this.assertOpen();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (cause) {
      throw storageFailure(`${this.what} database: no connection`, cause);
    }
    let broken = false;
    try {
      const tx = new Statements(client, `${this.what} transaction failed`, () => this.assertOpen());
      await tx.run('BEGIN');
      try {
        if (options.lock !== undefined)
          await tx.run('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [options.lock]);
        const result = await fn(tx);
        await tx.run('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {
          broken = true;
        });
        // As GuardedConnection.atomically: a typed error passes through, anything else is STORAGE_FAILURE.
        throw storageFailure(`${this.what} transaction failed`, error);
      }
    } finally {
      // A connection whose rollback failed is in an unknown state: destroy it rather than reuse it.
      client.release(broken ? true : undefined);
    }
  }

  assertOpen(): void {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', `${this.what} database is closed`);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Waits for checked-out connections to come back, then closes them. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
