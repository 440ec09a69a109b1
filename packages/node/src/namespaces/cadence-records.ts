import { CADENCE_LEVELS, RemembrancerError, isCadenceLevelName, type CadenceLevelName } from '@vaultmesh/core';

/**
 * The cadence schedules' records and their row codec, shared by both backends (cadence-store.ts
 * on SQLite, pg-cadence-storage.ts on PostgreSQL): the same columns, the same rows out.
 */

/** One level's schedule. Due times are `anchorMs + k·periodMs`, k ≥ 1. */
export interface CadenceRow {
  readonly namespace: string;
  readonly level: CadenceLevelName;
  readonly target: string;
  readonly every: string;
  readonly periodMs: number;
  readonly confirmations: number;
  /** Start of the schedule: when this level (as configured now) took effect. */
  readonly anchorMs: number;
  readonly nextDueMs: number;
  /** The latest due time that passed, null until the first one. */
  readonly lastDueMs: number | null;
  /** Due times passed since the schedule started, skipped ones included. */
  readonly dueCount: number;
}

/** A cadence_levels row as either driver returns it. */
export interface LevelRow {
  namespace: string;
  level: string;
  target: string;
  every: string;
  period_ms: number;
  confirmations: number;
  anchor_ms: number;
  next_due_ms: number;
  last_due_ms: number | null;
  due_count: number;
}

/** Columns of a level row, in the order levelValues() gives them. */
export const CADENCE_COLUMNS =
  'namespace, level, target, every, period_ms, confirmations, anchor_ms, next_due_ms, last_due_ms, due_count';

export function toCadenceRow(r: LevelRow): CadenceRow {
  if (!isCadenceLevelName(r.level))
    throw new RemembrancerError('STORAGE_FAILURE', `corrupt cadence row: level ${JSON.stringify(r.level)}`);
  return {
    namespace: r.namespace,
    level: r.level,
    target: r.target,
    every: r.every,
    periodMs: r.period_ms,
    confirmations: r.confirmations,
    anchorMs: r.anchor_ms,
    nextDueMs: r.next_due_ms,
    lastDueMs: r.last_due_ms,
    dueCount: r.due_count,
  };
}

/** A row's values in CADENCE_COLUMNS order. */
export function levelValues(
  row: CadenceRow,
): [string, string, string, string, number, number, number, number, number | null, number] {
  return [
    row.namespace,
    row.level,
    row.target,
    row.every,
    row.periodMs,
    row.confirmations,
    row.anchorMs,
    row.nextDueMs,
    row.lastDueMs,
    row.dueCount,
  ];
}

/** Levels in the order fast, strong, cold. */
export function levelOrder(a: CadenceRow, b: CadenceRow): number {
  return CADENCE_LEVELS.indexOf(a.level) - CADENCE_LEVELS.indexOf(b.level);
}

/**
 * A compound write names the schedule it read: a row of another namespace or level would escape
 * the transaction's serialisation (PostgreSQL locks the namespace it read). INVALID_ARGUMENT: a bug.
 */
export function assertSameSchedule(row: CadenceRow, namespace: string, level?: CadenceLevelName): void {
  if (row.namespace !== namespace || (level !== undefined && row.level !== level)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `cadence row ${row.namespace}/${row.level} written in the transaction of ${namespace}${level === undefined ? '' : `/${level}`}`,
    );
  }
}
