import type Database from 'better-sqlite3';
import { RemembrancerError } from '@vaultmesh/core';
import type { DatabaseSchema } from '../sqlite/sqlite-file.js';
import { fromName, type TableCopy } from './table-copy.js';

const UPGRADE_FIRST = 'start the node once with this build (it upgrades its files), stop it, then migrate';

/**
 * Refuses a SQLite file the copy would misread: another store's file, a file of an older build
 * (tables or columns the copy reads are missing: the node upgrades its files when it starts) or
 * of a newer one (what it added would be left behind). Said in words, before any row is copied,
 * instead of SQLite's "no such column" halfway through.
 */
export function assertSourceSchema(
  sqlite: Database.Database,
  schema: DatabaseSchema | undefined,
  tables: readonly TableCopy[],
  file: string,
): void {
  if (schema !== undefined) {
    const appId = sqlite.pragma('application_id', { simple: true }) as number;
    const version = sqlite.pragma('user_version', { simple: true }) as number;
    if (appId !== schema.applicationId)
      throw new RemembrancerError('STORAGE_FAILURE', `${file} is not a Remembrancer ${schema.what} database`);
    if (version > schema.migrations.length)
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${file} is of a newer build (${schema.what} schema ${version}, this build knows ${schema.migrations.length}); migrate with that build`,
      );
    if (version < schema.migrations.length)
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${file} is of an older build (${schema.what} schema ${version} of ${schema.migrations.length}); ${UPGRADE_FIRST}`,
      );
  }
  for (const t of tables) {
    const present = new Set(sqlite.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t.from) as string[]);
    const missing = [...new Set(t.columns.map(fromName))].filter((c) => !present.has(c));
    if (missing.length === 0) continue;
    const lacks =
      present.size === 0 ? `has no table ${t.from}` : `lacks ${missing.map((c) => `${t.from}.${c}`).join(', ')}`;
    throw new RemembrancerError('STORAGE_FAILURE', `${file} ${lacks}; ${UPGRADE_FIRST}`);
  }
}
