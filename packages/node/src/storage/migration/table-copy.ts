import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import type { PgQueryable, SqlScalar } from '../postgres/pg-database.js';

/** A column copied as it is, or from a SQLite column of another name (the same value may feed two columns). */
export type ColumnCopy = string | { from: string; to: string };

/** How one SQLite table becomes one PostgreSQL table: same rows, same values, columns renamed where said. */
export interface TableCopy {
  from: string;
  to: string;
  columns: readonly ColumnCopy[];
  /**
   * A PostgreSQL identity column whose values are copied as they are (rows reference them): the
   * insert overrides the identity, and its sequence is moved past the largest value afterwards.
   */
  identity?: string;
}

/** PostgreSQL takes at most 65,535 parameters per statement; batches also stay under a few MiB. */
const MAX_PARAMS = 60_000;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;

const fromName = (c: ColumnCopy) => (typeof c === 'string' ? c : c.from);
const toName = (c: ColumnCopy) => (typeof c === 'string' ? c : c.to);

function sizeOf(v: unknown): number {
  return v instanceof Uint8Array ? v.length : typeof v === 'string' ? v.length * 2 : 8;
}

/**
 * Copies every row of a SQLite table into a PostgreSQL table inside the caller's transaction,
 * streaming the SQLite rows (a log of millions of entries is never held in memory) in batches of
 * multi-row INSERTs. Resolves to the number of rows copied.
 */
export async function copyTable(
  sqlite: Database.Database,
  tx: PgQueryable,
  t: TableCopy,
  onProgress?: (table: string, rows: number) => void,
): Promise<number> {
  const cols = t.columns;
  const select = sqlite.prepare(`SELECT ${cols.map(fromName).join(', ')} FROM ${t.from}`).raw();
  const head = `INSERT INTO ${t.to} (${cols.map(toName).join(', ')})${t.identity === undefined ? '' : ' OVERRIDING SYSTEM VALUE'} VALUES `;
  const perBatch = Math.max(1, Math.floor(MAX_PARAMS / cols.length));
  let batch: SqlScalar[] = [];
  let rowsInBatch = 0;
  let bytes = 0;
  let copied = 0;
  const flush = async () => {
    if (rowsInBatch === 0) return;
    const values: string[] = [];
    for (let r = 0; r < rowsInBatch; r++)
      values.push(`(${cols.map((_, c) => `$${r * cols.length + c + 1}`).join(', ')})`);
    await tx.run(head + values.join(', '), batch);
    copied += rowsInBatch;
    onProgress?.(t.to, copied);
    batch = [];
    rowsInBatch = 0;
    bytes = 0;
  };
  for (const row of select.iterate() as Iterable<unknown[]>) {
    for (const v of row) {
      if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array))
        throw new RemembrancerError('STORAGE_FAILURE', `${t.from}: a value of unexpected type`);
      batch.push(v as SqlScalar);
      bytes += sizeOf(v);
    }
    rowsInBatch++;
    if (rowsInBatch >= perBatch || bytes >= MAX_BATCH_BYTES) await flush();
  }
  await flush();
  if (t.identity !== undefined) {
    await tx.run(
      `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${t.identity}) FROM ${t.to}), 1), (SELECT count(*) FROM ${t.to}) > 0)`,
      [t.to, t.identity],
    );
  }
  return copied;
}

/** Rows of a table on each side, for the verification after a copy. */
export async function rowCounts(
  sqlite: Database.Database,
  pg: PgQueryable,
  t: TableCopy,
): Promise<{ sqlite: number; postgres: number }> {
  const s = sqlite.prepare(`SELECT count(*) FROM ${t.from}`).pluck().get() as number;
  const p = await pg.row<{ n: number }>(`SELECT count(*)::bigint AS n FROM ${t.to}`);
  return { sqlite: s, postgres: p?.n ?? 0 };
}
