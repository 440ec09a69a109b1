import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import type { SharedLogStorage } from '../storage/shared-log-storage.js';
import { integrate, jsPairHasher, type PairHasher } from './integrator.js';
import type { ResolvedLogEngineConfig } from './log-engine-config.js';
import type { NamespaceRegistry } from './namespace-registry.js';
import type { NamespaceState } from './namespace-state.js';
import type { StateFollower } from './state-follower.js';
import type { TileStore } from './tile-store.js';

/** Integration passes run at least this often while leading, notifications or not. */
const POLL_MS = 250;

/**
 * The lease holder's integration of what every front end sequenced (issue 14): for each
 * namespace whose sequenced entries pass its tree, read them in batches, hash them, integrate
 * them into the tiles and the compact range, and store tiles and tree in one fenced transaction
 * (PgLogStorage.integrate). Woken by local appends, by other front ends' notifications and by a
 * timer; passes run one at a time. stop() ends it at once: a pass in flight stops before its
 * next write, and a write after a lost lease is refused by the fence anyway.
 */
export class SharedIntegrator {
  private active = false;
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly hashPairs: PairHasher;
  private idle: Promise<void> = Promise.resolve();
  private integrated = 0;

  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly storage: SharedLogStorage,
    private readonly tiles: TileStore,
    private readonly config: ResolvedLogEngineConfig,
    private readonly follower: StateFollower,
  ) {
    const packed = config.batchHasher.nodeHashesPacked;
    this.hashPairs = packed === undefined ? jsPairHasher : (children) => packed.call(config.batchHasher, children);
  }

  start(): void {
    this.active = true;
    this.timer ??= setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  stop(): void {
    this.active = false;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  get leading(): boolean {
    return this.active;
  }

  /** Entries integrated by this process since it started. */
  get integratedCount(): number {
    return this.integrated;
  }

  /** Asks for a pass (one runs at a time; a wake during a pass runs another after it). */
  wake(): void {
    if (!this.active) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.idle = this.passes().finally(() => (this.running = false));
  }

  /** Resolves when no pass runs (after the one running, if any). */
  settled(): Promise<void> {
    return this.idle;
  }

  private async passes(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        if (isRemembrancerError(error) && error.code === 'LEASE_LOST') {
          this.config.logger.warn({ err: error.message }, 'integration stopped: the lease is lost');
          this.stop();
          return;
        }
        // A tree moved under us (its row is not at the size we integrated from): re-read, retry next pass.
        this.config.logger.warn(
          { err: error instanceof Error ? error.message : String(error) },
          'integration pass failed',
        );
        await this.follower.resync().catch(() => undefined);
      }
    } while (this.again && this.active);
  }

  private async pass(): Promise<void> {
    for (const s of await this.storage.sequencingStates()) {
      if (!this.active) return;
      const st = this.registry.findByKey(s.namespace);
      if (st === undefined) continue; // the follower installs it; the next pass integrates it
      st.sequenced = Math.max(st.sequenced ?? 0, s.sequenced);
      if (s.size > st.range.size) await this.follower.refresh(s.namespace);
      while (this.active && st.range.size < s.sequenced)
        await this.integrateBatch(st, Math.min(s.sequenced, st.range.size + this.config.batchMaxEntries));
    }
  }

  private async integrateBatch(st: NamespaceState, end: number): Promise<void> {
    const range = st.range;
    const start = range.size;
    const entries = await this.storage.readEntries(st.key, start, end);
    if (entries.length !== end - start) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `${st.record.id}: entries [${start}, ${end}) are sequenced but ${entries.length} are stored`,
      );
    }
    const hashes = this.config.batchHasher.leafHashes(entries);
    const integration = await this.tiles.read(() => integrate(st.key, range, hashes, this.tiles, this.hashPairs));
    if (!this.active || st.range !== range) return;
    await this.storage.integrate([
      {
        namespace: st.key,
        previousSize: start,
        tiles: integration.tiles,
        tree: { size: integration.range.size, compactRange: [...integration.range.hashes] },
        ...(this.config.leafIndex ? { indexLeaves: true } : {}),
      },
    ]);
    // Stored: adopt (a re-read may have adopted the same tree meanwhile: sizes never go back).
    if (st.range.size < integration.range.size) {
      this.tiles.committed(st.key, integration.tiles);
      st.range = integration.range;
      st.root = undefined;
    }
    this.integrated += end - start;
    this.follower.grew(st);
  }
}
