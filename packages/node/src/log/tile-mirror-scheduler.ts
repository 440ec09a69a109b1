import { fullTileCount } from '@vaultmesh/core';
import type { LogStorage, StoredTile } from '../storage/log-storage.js';
import { MIRROR_CATCH_UP_DELAY_MS, MIRROR_CATCH_UP_TILES, MIRROR_TILES_PER_COMMIT } from './log-engine-defaults.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';
import type { TileMirror } from './tile-mirror.js';
import type { TileStore } from './tile-store.js';

/** The tile levels of the tree that have a full tile, with their number of full tiles. */
function fullLevels(st: NamespaceState): { level: number; full: number }[] {
  const out: { level: number; full: number }[] = [];
  for (let level = 0; fullTileCount(st.range.size, level) > 0; level++) {
    out.push({ level, full: fullTileCount(st.range.size, level) });
  }
  return out;
}

/**
 * When tiles reach the flat-file mirror (TileMirror): newly full tiles right after the commit
 * that completed them, any backlog by a background timer in small steps, and a periodic sync
 * that makes them durable. Owns both timers; close() stops them and closes the mirror.
 *
 * Copies run one at a time, in the order they were asked for: each appends to a level where the
 * mirror's written count stands, and tiles that memory does not hold are awaited from storage
 * before the (synchronous) mirror writes, so two copies never write the same level at once.
 */
export class TileMirrorScheduler {
  private syncTimer: NodeJS.Timeout | undefined;
  private catchUp: NodeJS.Timeout | undefined;
  private stopping = false;
  /** The copy running or last run; the next starts when it settles. */
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly mirror: TileMirror,
    private readonly tiles: TileStore,
    private readonly storage: LogStorage,
    /** Every namespace, for the background catch-up. */
    private readonly allStates: () => Iterable<NamespaceState>,
    private readonly logger: LogEngineLogger,
  ) {}

  /** Checks the namespace's mirror files against the database; must run before any tile is read through the mirror. */
  async validate(st: NamespaceState): Promise<void> {
    for (const { level, full } of fullLevels(st)) {
      await this.mirror.validate(st.key, level, full, (i) => this.storage.readTile(st.key, level, i));
    }
  }

  /** Starts copying the backlog in the background and syncing every `syncMs`. */
  start(syncMs: number): void {
    this.schedule(this.allStates(), 0);
    this.syncTimer = setInterval(() => this.mirror.sync(), syncMs);
    this.syncTimer.unref();
  }

  /** After a commit: copies the tiles it completed (up to MIRROR_TILES_PER_COMMIT per level). */
  committed(states: Iterable<NamespaceState>): void {
    this.schedule(states, MIRROR_TILES_PER_COMMIT);
  }

  /** No more background work: called when the engine starts closing (commits may still drain). */
  stopCatchUp(): void {
    this.stopping = true;
    if (this.catchUp !== undefined) clearTimeout(this.catchUp);
    this.catchUp = undefined;
  }

  /** Stops both timers, waits for the copy under way and closes the mirror (a last sync included). */
  async close(): Promise<void> {
    this.stopCatchUp();
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    await this.tail;
    this.mirror.close();
  }

  private schedule(states: Iterable<NamespaceState>, budget: number): void {
    const list = [...states];
    this.tail = this.tail
      .then(() => this.extend(list, budget))
      .catch((error: unknown) => {
        // Storage failed under a copy: the mirror stays as it is (reads fall back to the database).
        this.logger.warn({ err: error }, 'tile mirror copy failed; will retry after the next commit');
      });
  }

  /**
   * Copies newly completed full tiles into the mirror, at most `budget` per level now (0: none
   * now); any backlog (first open of a large log, rebuilt mirror) continues in the background.
   */
  private async extend(states: readonly NamespaceState[], budget: number): Promise<void> {
    const mirror = this.mirror;
    let backlog = false;
    for (const st of states) {
      for (const { level, full } of fullLevels(st)) {
        const written = mirror.written(st.key, level);
        if (written >= full) continue;
        if (budget === 0) {
          backlog = true;
          continue;
        }
        // Just committed tiles are still in memory; a backlog comes from storage.
        const source: StoredTile[] = [];
        for (let i = written; i < Math.min(full, written + budget); i++) {
          const t = this.tiles.peek(st.key, level, i) ?? (await this.storage.readTile(st.key, level, i));
          if (t === undefined) break; // mirror.extend refuses the gap (and turns the mirror off)
          source.push(t);
        }
        if (mirror.extend(st.key, level, full, budget, (i) => source[i - written]) > 0) backlog = true;
      }
    }
    if (backlog && this.catchUp === undefined && !this.stopping) {
      this.catchUp = setTimeout(() => {
        this.catchUp = undefined;
        if (!this.stopping) this.schedule(this.allStates(), MIRROR_CATCH_UP_TILES);
      }, MIRROR_CATCH_UP_DELAY_MS);
      this.catchUp.unref();
    }
  }
}
