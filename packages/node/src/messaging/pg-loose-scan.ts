/**
 * The first row (in `order`) of each distinct `keys` of `table` where `where` holds, in key order,
 * in one statement: a loose index scan written as a recursive CTE — one seek per key in an index
 * on (keys…, order) — where DISTINCT ON or GROUP BY would read every row. The PostgreSQL form of
 * the SQLite stores' step-from-stream-to-stream loops (a seek per stream, a statement each).
 * Selects `keys` and `extra` columns; `$n` parameters may appear in `where`.
 */
export function firstPerKeySql(options: {
  table: string;
  keys: readonly string[];
  order: string;
  where?: string;
  extra?: readonly string[];
}): string {
  const { table, keys, order } = options;
  const where = options.where ?? 'TRUE';
  const columns = [...keys, ...(options.extra ?? [])].join(', ');
  const keyList = keys.join(', ');
  const first = (after: string) =>
    `SELECT ${columns} FROM ${table} WHERE (${where})${after} ORDER BY ${keyList}, ${order} LIMIT 1`;
  return `
    WITH RECURSIVE h AS (
      (${first('')})
      UNION ALL
      SELECT n.* FROM h CROSS JOIN LATERAL (${first(` AND (${keyList}) > (${keys.map((k) => `h.${k}`).join(', ')})`)}) n
    )
    SELECT ${columns} FROM h ORDER BY ${keyList}`;
}
