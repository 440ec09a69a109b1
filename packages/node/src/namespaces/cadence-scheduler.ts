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
import type { CadenceRow } from './cadence-records.js';
import type { CadenceStorage } from './cadence-storage.js';

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
  storage: CadenceStorage;
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
 * when levels come due. State lives in the CadenceStorage (SQLite file or PostgreSQL tables), so a
 * restart resumes each schedule where it was, and front ends sharing a database advance each due
 * level once between them.
 */
export class CadenceScheduler {
  readonly #storage: CadenceStorage;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  readonly #listeners = new Set<CadenceDueListener>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /**
   * The scheduler's writes (apply, tick), one at a time in call order, as the synchronous calls
   * were: listeners hear the events of one tick before the next tick's, and applies land in the
   * order governance made them.
   */
  #writes: Promise<unknown> = Promise.resolve();
  /** A timer tick is queued or running: the timer adds no second one behind it. */
  #timerTickQueued = false;

  constructor(options: CadenceSchedulerOptions) {
    this.#storage = options.storage;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? reportByWarning;
  }

  /** Runs `write` after the writes queued before it; a failure rejects this call only. */
  #queued<T>(write: () => Promise<T>): Promise<T> {
    const run = this.#writes.then(write);
    this.#writes = run.catch(() => undefined);
    return run;
  }

  /**
   * Makes `spec` the namespace's cadence from `effectiveAtMs` on. Levels whose target, every,
   * confirmations and resolved period are unchanged keep their schedule, so the replay at every
   * start-up changes nothing; new or changed levels start at effectiveAtMs (their first due time
   * is the first effectiveAtMs + k·period after now); levels no longer in spec are dropped.
   * A call older than the cadence already applied (effectiveAtMs below its effective time) is a
   * replay of superseded history and changes nothing. One transaction (updateNamespace).
   */
  async apply(namespace: string, spec: CadenceSpec, effectiveAtMs: number): Promise<void> {
    assertNamespaceId(namespace);
    if (!Number.isSafeInteger(effectiveAtMs)) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'effectiveAtMs must be integer milliseconds');
    }
    const normalized = parseCadence(spec, '');
    const periods = cadencePeriodsMs(normalized);
    const now = this.#clock();
    await this.#queued(() =>
      this.#storage.updateNamespace(namespace, ({ appliedAt, levels }) => {
        if (appliedAt !== undefined && effectiveAtMs < appliedAt) return { put: [], remove: [] };
        const existing = new Map(levels.map((r) => [r.level, r]));
        const put: CadenceRow[] = [];
        const remove: CadenceLevelName[] = [];
        for (const level of CADENCE_LEVELS) {
          const l = normalized[level];
          const row = existing.get(level);
          if (l === undefined) {
            if (row !== undefined) remove.push(level);
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
          put.push({
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
        return { put, remove, ...(appliedAt !== effectiveAtMs ? { appliedAt: effectiveAtMs } : {}) };
      }),
    );
  }

  /**
   * Advances every level that is due: the passed due times are counted, the latest becomes
   * last_due, next_due moves to the first slot after now (missed slots are skipped, not
   * replayed). The new state is committed before listeners hear of it, one event per level;
   * listener errors go to onError. Resolves to the events once listeners heard them.
   */
  tick(): Promise<CadenceDueEvent[]> {
    return this.#queued(async () => {
      const now = this.#clock();
      const advanced = await this.#storage.advanceDue(now, (row) => {
        const next = nextDueAfter(row.nextDueMs, row.periodMs, now);
        const periods = (next - row.nextDueMs) / row.periodMs;
        return { ...row, nextDueMs: next, lastDueMs: next - row.periodMs, dueCount: row.dueCount + periods };
      });
      const events = advanced.map(({ before, after }) => ({
        namespace: after.namespace,
        level: after.level,
        target: after.target,
        confirmations: after.confirmations,
        dueAtMs: after.lastDueMs!,
        periods: (after.nextDueMs - before.nextDueMs) / after.periodMs,
      }));
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
    });
  }

  /**
   * The latest due event of every level that has come due at least once (its last_due), as
   * tick() emitted it, less `periods` (reported as 1). For a listener that recovers events it may
   * have missed: tick() commits a due time before listeners hear of it, so a crash in between
   * leaves the event committed here and unheard there.
   */
  async lastDueEvents(): Promise<CadenceDueEvent[]> {
    const out: CadenceDueEvent[] = [];
    for (const namespace of await this.#storage.namespaces()) {
      for (const row of await this.#storage.levels(namespace)) {
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
      // A tick slower than the interval (a busy database) is not joined by a backlog of ticks.
      if (this.#timerTickQueued) return;
      this.#timerTickQueued = true;
      this.tick()
        .catch((error: unknown) => this.#onError(error))
        .finally(() => {
          this.#timerTickQueued = false;
        });
    }, intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer, lets the writes in flight end and closes the storage. */
  async close(): Promise<void> {
    this.stop();
    this.#listeners.clear();
    await this.#writes;
    await this.#storage.close();
  }

  /** The namespace's schedules as `GET /v1/ns/{ns}` shows them; `{}` if it has none. */
  async view(namespace: string): Promise<CadenceView> {
    const out: CadenceView = {};
    for (const r of await this.#storage.levels(namespace)) out[r.level] = toView(r);
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
