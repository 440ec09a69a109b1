import type { CadenceLevelName } from '@vaultmesh/core';
import type { CadenceRow } from './cadence-records.js';

/** One namespace's cadence as stored: what CadenceStorage.updateNamespace's decide() is given. */
export interface CadenceNamespaceState {
  /** Effective time of the cadence last applied, if any was. */
  readonly appliedAt: number | undefined;
  /** Its levels, in the order fast, strong, cold. */
  readonly levels: readonly CadenceRow[];
}

/** What to write for one namespace; empty lists and no appliedAt write nothing. */
export interface CadenceChange {
  /** Schedules to insert or replace, all of the namespace updated. */
  readonly put: readonly CadenceRow[];
  /** Levels of the namespace to drop. */
  readonly remove: readonly CadenceLevelName[];
  /** The new effective time of the namespace's cadence; undefined leaves it as it is. */
  readonly appliedAt?: number;
}

/** A level that came due, as stored before and after advanceDue moved it on. */
export interface AdvancedLevel {
  readonly before: CadenceRow;
  readonly after: CadenceRow;
}

/**
 * The cadence schedules (issue 4 item 6), on SQLite (SqliteCadenceStorage) or PostgreSQL
 * (PgCadenceStorage). Each operation is atomic on its own; the two compound ones are the
 * scheduler's read-check-writes, whole in one transaction because across awaits and front ends
 * nothing else would hold. Failures are STORAGE_FAILURE; use after close() is SHUTTING_DOWN.
 */
export interface CadenceStorage {
  /** The levels of one namespace, in the order fast, strong, cold. */
  levels(namespace: string): Promise<CadenceRow[]>;
  /** Every level whose next due time is at or before nowMs, earliest first (then by namespace, level). */
  due(nowMs: number): Promise<CadenceRow[]>;
  /** Inserts or replaces the schedule of (row.namespace, row.level). */
  put(row: CadenceRow): Promise<void>;
  remove(namespace: string, level: CadenceLevelName): Promise<void>;
  /** Effective time of the cadence last applied to the namespace, if any was. */
  appliedAt(namespace: string): Promise<number | undefined>;
  setAppliedAt(namespace: string, effectiveAtMs: number): Promise<void>;
  /** Namespaces a cadence was ever applied to (with or without levels), in byte order. */
  namespaces(): Promise<string[]>;
  /**
   * Reads the namespace's state, calls decide() with it (synchronously) and writes its change,
   * in one transaction serialised with every other write of that namespace's schedules (ticks
   * included), across connections and front ends: the state decide() saw is the state its change
   * replaces. A throw from decide() writes nothing and rejects with it.
   */
  updateNamespace(namespace: string, decide: (state: CadenceNamespaceState) => CadenceChange): Promise<void>;
  /**
   * Replaces every level due at nowMs by advance(level) (the same namespace and level, its next
   * due time after nowMs) in one transaction, and returns them, earliest due first. Atomic
   * across front ends: two ticks at once advance each due level once between them — a level
   * the other advanced first is no longer due and is left out.
   */
  advanceDue(nowMs: number, advance: (due: CadenceRow) => CadenceRow): Promise<AdvancedLevel[]>;
  /** Idempotent. */
  close(): Promise<void>;
}
