import {
  CADENCE_LEVELS,
  RemembrancerError,
  assertNamespaceId,
  cadencePeriodsMs,
  nextDueAfter,
  parseCadence,
  type CadenceLevelName,
  type CadenceSpec,
} from '@vaultmesh/core';
import type { CadenceRow, CadenceStore } from './cadence-store.js';

/** A level came due: the anchoring of the namespace at that level should start. */
export interface CadenceDueEvent {
  readonly namespace: string;
  readonly level: CadenceLevelName;
  readonly target: string;
  readonly confirmations: number;
  /** The latest due time that passed; earlier ones passed in the same tick are skipped. */
  readonly dueAtMs: number;
  /** Due times that passed since the previous event of this level (≥ 1; > 1 after downtime). */
  readonly periods: number;
}

export type CadenceDueListener = (event: CadenceDueEvent) => void;

/** One level as `GET /v1/ns/{ns}` shows it. */
export interface CadenceLevelView {
  target: string;
  every: string;
  period_ms: number;
  confirmations: number;
  /** ISO 8601 UTC. */
  next_due: string;
  last_due: string | null;
  due_count: number;
}

export type CadenceView = Partial<Record<CadenceLevelName, CadenceLevelView>>;

export interface CadenceSchedulerOptions {
  store: CadenceStore;
  /** Milliseconds since the epoch; tests inject a clock. */
  now?: () => number;
  /** Receives errors of timer ticks and of listeners, which have no caller to throw to. */
  onError?: (error: unknown) => void;
}

/** setInterval's limit; longer delays fire at once. */
const MAX_INTERVAL_MS = 2 ** 31 - 1;

function reportByWarning(error: unknown): void {
  process.emitWarning(error instanceof Error ? error : new Error(String(error)), { code: 'VAULTMESH_CADENCE' });
}

/**
 * Keeps the due times of every namespace's cadence levels (issue 4, item 6) and tells listeners
 * when levels come due. State lives in the CadenceStore, so a restart resumes each schedule where
 * it was; the anchoring that consumes the events comes later.
 */
export class CadenceScheduler {
  readonly #store: CadenceStore;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<CadenceDueListener>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: CadenceSchedulerOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? reportByWarning;
  }

  /**
   * Makes `spec` the namespace's cadence from `effectiveAtMs` on. Levels whose target, every,
   * confirmations and resolved period are unchanged keep their schedule, so the replay at every
   * start-up changes nothing; new or changed levels start at effectiveAtMs (their first due time
   * is the first effectiveAtMs + k·period after now); levels no longer in spec are dropped.
   * A call older than the cadence already applied (effectiveAtMs below its effective time) is a
   * replay of superseded history and changes nothing. One transaction.
   */
  apply(namespace: string, spec: CadenceSpec, effectiveAtMs: number): void {
    assertNamespaceId(namespace);
    if (!Number.isSafeInteger(effectiveAtMs)) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'effectiveAtMs must be integer milliseconds');
    }
    const normalized = parseCadence(spec, '');
    const periods = cadencePeriodsMs(normalized);
    const now = this.#clock();
    this.#store.atomically(() => {
      const appliedAt = this.#store.appliedAt(namespace);
      if (appliedAt !== undefined && effectiveAtMs < appliedAt) return;
      const existing = new Map(this.#store.levels(namespace).map((r) => [r.level, r]));
      for (const level of CADENCE_LEVELS) {
        const l = normalized[level];
        const row = existing.get(level);
        if (l === undefined) {
          if (row !== undefined) this.#store.remove(namespace, level);
          continue;
        }
        const periodMs = periods[level]!;
        if (
          row !== undefined &&
          row.target === l.target &&
          row.every === l.every &&
          row.confirmations === l.confirmations &&
          // `12*fast` with an unchanged string is still a new schedule when fast changed.
          row.periodMs === periodMs
        ) {
          continue;
        }
        this.#store.put({
          namespace,
          level,
          target: l.target,
          every: l.every,
          periodMs,
          confirmations: l.confirmations,
          anchorMs: effectiveAtMs,
          nextDueMs: nextDueAfter(effectiveAtMs, periodMs, now),
          lastDueMs: null,
          dueCount: 0,
        });
      }
      // Nothing written when nothing changed: the replay after every governance refresh stays free of fsyncs.
      if (appliedAt !== effectiveAtMs) this.#store.setAppliedAt(namespace, effectiveAtMs);
    });
  }

  /**
   * Advances every level that is due: the passed due times are counted, the latest becomes
   * last_due, next_due moves to the first slot after now (missed slots are skipped, not
   * replayed). The new state is committed before listeners hear of it, one event per level;
   * listener errors go to onError. Returns the events.
   */
  tick(): CadenceDueEvent[] {
    const now = this.#clock();
    const events = this.#store.atomically(() => {
      const out: CadenceDueEvent[] = [];
      for (const row of this.#store.due(now)) {
        const next = nextDueAfter(row.nextDueMs, row.periodMs, now);
        const periods = (next - row.nextDueMs) / row.periodMs;
        const dueAtMs = next - row.periodMs;
        this.#store.put({ ...row, nextDueMs: next, lastDueMs: dueAtMs, dueCount: row.dueCount + periods });
        out.push({
          namespace: row.namespace,
          level: row.level,
          target: row.target,
          confirmations: row.confirmations,
          dueAtMs,
          periods,
        });
      }
      return out;
    });
    for (const e of events) {
      for (const listener of [...this.#listeners]) {
        try {
          listener(e);
        } catch (error) {
          this.#onError(error);
        }
      }
    }
    return events;
  }

  /**
   * The latest due event of every level that has come due at least once (its last_due), as
   * tick() emitted it, less `periods` (reported as 1). For a listener that recovers events it may
   * have missed: tick() commits a due time before listeners hear of it, so a crash in between
   * leaves the event committed here and unheard there.
   */
  lastDueEvents(): CadenceDueEvent[] {
    const out: CadenceDueEvent[] = [];
    for (const namespace of this.#store.namespaces()) {
      for (const row of this.#store.levels(namespace)) {
        if (row.lastDueMs === null) continue;
        out.push({
          namespace,
          level: row.level,
          target: row.target,
          confirmations: row.confirmations,
          dueAtMs: row.lastDueMs,
          periods: 1,
        });
      }
    }
    return out;
  }

  /** Subscribes to due events; returns the unsubscribe function. */
  onDue(listener: CadenceDueListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Ticks every intervalMs (restarting the timer if running); the timer does not keep the process alive. */
  start(intervalMs = 1000): void {
    if (!Number.isSafeInteger(intervalMs) || intervalMs < 1 || intervalMs > MAX_INTERVAL_MS) {
      throw new RemembrancerError(
        'INVALID_ARGUMENT',
        `tick interval must be an integer from 1 to ${MAX_INTERVAL_MS} ms`,
      );
    }
    this.stop();
    this.#timer = setInterval(() => {
      try {
        this.tick();
      } catch (error) {
        this.#onError(error);
      }
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and closes the store. */
  close(): void {
    this.stop();
    this.#listeners.clear();
    this.#store.close();
  }

  /** The namespace's schedules as `GET /v1/ns/{ns}` shows them; `{}` if it has none. */
  view(namespace: string): CadenceView {
    const out: CadenceView = {};
    for (const r of this.#store.levels(namespace)) out[r.level] = toView(r);
    return out;
  }

  #clock(): number {
    const t = this.#now();
    if (!Number.isFinite(t)) throw new RemembrancerError('INTERNAL', 'clock returned a non-finite time');
    return Math.floor(t);
  }
}

function toView(r: CadenceRow): CadenceLevelView {
  return {
    target: r.target,
    every: r.every,
    period_ms: r.periodMs,
    confirmations: r.confirmations,
    next_due: new Date(r.nextDueMs).toISOString(),
    last_due: r.lastDueMs === null ? null : new Date(r.lastDueMs).toISOString(),
    due_count: r.dueCount,
  };
}
