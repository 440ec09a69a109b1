export {
  PgDatabase,
  redactUrl,
  type PgDatabaseOptions,
  type PgQueryable,
  type SqlParam,
  type TransactionOptions,
} from './pg-database.js';
export { migratePostgres, postgresSchemaVersion, type PgSchema } from './pg-migrations.js';
export { NO_FENCE, type WriteFence } from './write-fence.js';
