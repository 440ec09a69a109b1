import type { WitnessConflict, WitnessedCheckpoint } from './witness-records.js';

/** What a batch of add-checkpoint requests decided, given the stored checkpoints of its origins. */
export interface WitnessDecision<T> {
  /**
   * The new latest cosigned checkpoint of some of the origins read, at most one per origin; each
   * replaces the checkpoint decide() was given for its origin (none: there must still be none).
   */
  readonly checkpoints: readonly WitnessedCheckpoint[];
  /** Conflicting checkpoints to keep (once per origin and offered note). */
  readonly conflicts: readonly WitnessConflict[];
  /** Handed back to the caller as it is, once the decision is committed. */
  readonly result: T;
}

export interface WitnessCommit<T> {
  readonly result: T;
  /** Per entry of the decision's conflicts: true if it was new (not kept before, nor earlier in this decision). */
  readonly newConflicts: readonly boolean[];
}

/**
 * The witness's state (https://c2sp.org/tlog-witness: the latest cosigned checkpoint per origin,
 * plus conflicting checkpoints kept as evidence), on SQLite (SqliteWitnessStorage) or PostgreSQL
 * (PgWitnessStorage). Failures are STORAGE_FAILURE; use after close() is SHUTTING_DOWN.
 */
export interface WitnessStorage {
  /** The latest checkpoint cosigned for the origin. */
  get(origin: string): Promise<WitnessedCheckpoint | undefined>;
  /** The same, by the lowercase hex SHA-256 of the origin (the monitoring path). */
  getByOriginHash(originHash: string): Promise<WitnessedCheckpoint | undefined>;
  /** Every origin's latest cosigned checkpoint, by origin (byte order). */
  list(): Promise<WitnessedCheckpoint[]>;
  /**
   * The witness's read-check-write, atomic: reads the stored checkpoints of `origins`, calls
   * decide() with them (synchronously: it checks the requests and signs the cosignatures), then
   * writes what it decided, all in one transaction that is serialised with every other
   * updateCheckpoints on the same state — across connections of a SQLite file and across front
   * ends of a PostgreSQL database — so the stored size a request was checked against is the one
   * its write replaces and no cosignature is returned for a state another writer overwrote. The
   * commit is durable before the promise resolves (the spec: persist before responding). A throw
   * from decide() writes nothing and rejects with it (untyped errors as STORAGE_FAILURE).
   */
  updateCheckpoints<T>(
    origins: readonly string[],
    decide: (stored: ReadonlyMap<string, WitnessedCheckpoint>) => WitnessDecision<T>,
  ): Promise<WitnessCommit<T>>;
  /** Kept conflicts, newest first; of one origin or of all; at most `limit` (default MAX_CONFLICTS_PER_ORIGIN). */
  conflicts(origin?: string, limit?: number): Promise<WitnessConflict[]>;
  /** Idempotent. */
  close(): Promise<void>;
}
