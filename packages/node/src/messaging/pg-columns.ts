import type { SqlScalar } from '../storage/postgres/pg-database.js';

/**
 * Rows of statement values turned into one array per column, for `unnest($1::text[], $2::bigint[], …)`:
 * a batch of any size goes to PostgreSQL in one round trip (the messaging path's batches are up to
 * a thousand rows; one statement per row would be a round trip each). `width` is the number of
 * columns, so an empty batch still gives one (empty) array per column.
 */
export function toColumns(rows: ReadonlyArray<readonly SqlScalar[]>, width: number): SqlScalar[][] {
  const columns: SqlScalar[][] = Array.from({ length: width }, () => []);
  for (const r of rows) for (let i = 0; i < width; i++) columns[i]!.push(r[i] ?? null);
  return columns;
}
