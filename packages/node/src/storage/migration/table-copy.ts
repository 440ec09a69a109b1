import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import type { PgQueryable, SqlScalar } from '../postgres/pg-database.js';

/**
 * A column copied as it is, or from a SQLite column of another name (the same value may feed two
 * columns), or computed from one: `map` makes a PostgreSQL-only column from the SQLite value
 * (witness_conflicts.offered_digest is the SHA-256 of offered_note).
 */
export type ColumnCopy = string | { from: string; to: string; map?: (value: SqlScalar) => SqlScalar };

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

/** The SQLite column a column copy reads. */
export const fromName = (c: ColumnCopy) => (typeof c === 'string' ? c : c.from);
const toName = (c: ColumnCopy) => (typeof c === 'string' ? c : c.to);
const mapOf = (c: ColumnCopy) => (typeof c === 'string' ? undefined : c.map);

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
  const maps = cols.map(mapOf);
  for (const row of select.iterate() as Iterable<unknown[]>) {
    for (let c = 0; c < row.length; c++) {
      const raw = row[c];
      if (raw !== null && typeof raw === 'object' && !(raw instanceof Uint8Array))
        throw new RemembrancerError('STORAGE_FAILURE', `${t.from}: a value of unexpected type`);
      const map = maps[c];
      const v = map === undefined ? (raw as SqlScalar) : map(raw as SqlScalar);
      batch.push(v);
      bytes += sizeOf(v);
    }
    rowsInBatch++;
    if (rowsInBatch >= perBatch || bytes >= MAX_BATCH_BYTES) await flush();
  }
  await flush();
  if (t.identity !== undefined) {
    // Past the largest key copied, and past every key SQLite ever handed out (AUTOINCREMENT keeps
    // it in sqlite_sequence: keys of pruned rows, such as inbox cursors, are never reused).
    const used = Math.max(0, lastAutoincrement(sqlite, t.from));
    await tx.run(
      `SELECT setval(pg_get_serial_sequence($1, $2), GREATEST((SELECT max(${t.identity}) FROM ${t.to}), $3::bigint, 1),
                     (SELECT count(*) FROM ${t.to}) > 0 OR $3::bigint > 0)`,
      [t.to, t.identity, used],
    );
  }
  return copied;
}

/** The last key SQLite's AUTOINCREMENT handed out for a table, 0 when none (or no AUTOINCREMENT). */
function lastAutoincrement(sqlite: Database.Database, table: string): number {
  const has = sqlite.prepare(`SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'sqlite_sequence'`).get();
  if (has === undefined) return 0;
  const seq = sqlite.prepare('SELECT seq FROM sqlite_sequence WHERE name = ?').pluck().get(table) as number | undefined;
  return seq ?? 0;
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
