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
export { PgListener, type PgListenerOptions } from './pg-listener.js';
export { PgLogStorage, LOG_CHANNELS, type PgLogStorageOptions } from './pg-log-storage.js';
export {
  SequencingLease,
  SEQUENCER_LEASE,
  DEFAULT_LEASE_TTL_MS,
  type LeaseGrant,
  type LeaseHolderInfo,
} from './sequencing-lease.js';
