import type { PgDatabase } from './postgres/pg-database.js';
import type { WriteFence } from './postgres/write-fence.js';

/**
 * Where a node's stores open: SQLite files in its data directory (one file per store, the
 * default), or tables in its PostgreSQL database (one pool shared by every store of the front
 * end). `fence` is the sequencing lease: stores check it in the writes that only the lease
 * holder's work makes (cosignatures, anchoring, delivery, cadence); NO_FENCE for one process alone.
 */
export type StorageTarget =
  { kind: 'sqlite'; dataDir: string } | { kind: 'postgres'; db: PgDatabase; fence: WriteFence };
