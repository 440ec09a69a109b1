import { signCheckpoint } from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import type { PublishedCheckpoint } from './log-engine.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';

/**
 * Signs and stores checkpoints. A checkpoint is written to the history table before it becomes
 * the namespace's latest, so nothing is ever served that a restart would forget. Checkpoints are
 * taken of the integrated tree only, whose earlier states are prefixes of it, so every checkpoint
 * is consistent with every earlier one by construction.
 *
 * Publications run one at a time (timer ticks, publishCheckpoint calls, the last one on close):
 * each decides what to sign only once the one before is stored, so a size is never signed twice
 * and a namespace's latest only grows.
 */
export class CheckpointPublisher {
  private timer: NodeJS.Timeout | undefined;
  private published = 0;
  /** Namespaces someone waits on (request()), published together by one soon timer. */
  private readonly requested = new Set<NamespaceState>();
  private soon: NodeJS.Timeout | undefined;
  /** When the last publication that signed something started (performance.now()): requests keep their distance from it. */
  private lastSignedAt = -Infinity;
  /** The publication running or last run; the next one starts when it settles. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly storage: LogStorage,
    private readonly retain: number,
    private readonly logger: LogEngineLogger,
    /** Called for each namespace whose new checkpoint was just stored (and is now its latest). */
    private readonly onPublished: (st: NamespaceState) => void = () => undefined,
  ) {}

  /** Signs a checkpoint of the current tree if it grew since the latest; resolves to the latest. */
  async publish(st: NamespaceState): Promise<PublishedCheckpoint | undefined> {
    await this.serialized(() => this.publishMany([st]));
    return st.latest;
  }

  /** Publishes for every namespace that grew, in one storage transaction; logs instead of rejecting. */
  async publishAll(states: () => Iterable<NamespaceState>): Promise<void> {
    try {
      await this.serialized(() => this.publishMany(states()));
    } catch (error) {
      this.logger.error({ err: error }, 'checkpoint publication failed');
    }
  }

  /** Runs `fn` after every publication before it has settled (whatever its outcome). */
  private serialized(fn: () => Promise<void>): Promise<void> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async publishMany(states: Iterable<NamespaceState>): Promise<void> {
    const signed: { st: NamespaceState; checkpoint: PublishedCheckpoint }[] = [];
    const startedAt = performance.now();
    const publishedAt = new Date().toISOString();
    for (const st of states) {
      const size = st.range.size;
      if (st.latest !== undefined && st.latest.size >= size) continue;
      st.root ??= st.range.root();
      const root = st.root;
      const note = signCheckpoint({ origin: st.record.origin, size, root }, st.signer);
      signed.push({ st, checkpoint: { size, root, note, publishedAt } });
    }
    if (signed.length === 0) return;
    this.lastSignedAt = startedAt;
    await this.storage.appendCheckpoints(
      signed.map(({ st, checkpoint }) => ({ ns: st.key, checkpoint })),
      this.retain,
    );
    // Stored: now they may be served.
    for (const { st, checkpoint } of signed) st.latest = checkpoint;
    this.published += signed.length;
    for (const { st } of signed) this.onPublished(st);
  }

  /**
   * Adaptive checkpoints: clients wait for a checkpoint of `st`. One publication of every namespace
   * asked for runs as soon as `minIntervalMs` has passed since the last one that signed anything;
   * requests meanwhile join it. What it signs is the tree integrated when it runs: an append that
   * resolved before the request is covered.
   */
  request(st: NamespaceState, minIntervalMs: number): void {
    this.requested.add(st);
    if (this.soon !== undefined) return;
    const delay = Math.max(0, this.lastSignedAt + minIntervalMs - performance.now());
    this.soon = setTimeout(() => {
      this.soon = undefined;
      const states = [...this.requested];
      this.requested.clear();
      void this.publishAll(() => states);
    }, delay);
    this.soon.unref();
  }

  start(intervalMs: number, states: () => Iterable<NamespaceState>): void {
    this.stop();
    if (intervalMs <= 0) return;
    let ticking = false;
    this.timer = setInterval(() => {
      // The previous tick is still storing (a slow database): skip this one rather than pile up.
      if (ticking) return;
      ticking = true;
      void this.publishAll(states).finally(() => (ticking = false));
    }, intervalMs);
    // The timer alone must not keep a process alive (CLI commands, tests); a server has its socket.
    this.timer.unref();
  }

  /** Stops the timer and drops pending requests (no longer leading, or closing). */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.soon !== undefined) clearTimeout(this.soon);
    this.soon = undefined;
    this.requested.clear();
  }

  get publishedCount(): number {
    return this.published;
  }
}
