import { fullTileCount } from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import { MIRROR_CATCH_UP_DELAY_MS, MIRROR_CATCH_UP_TILES, MIRROR_TILES_PER_COMMIT } from './log-engine-defaults.js';
import type { NamespaceState } from './namespace-state.js';
import type { TileMirror } from './tile-mirror.js';
import type { TileStore } from './tile-store.js';

/** Calls fn(level, full tiles at that level) for every tile level of the tree that has a full tile. */
function forEachFullLevel(st: NamespaceState, fn: (level: number, fullTiles: number) => void): void {
  for (let level = 0; fullTileCount(st.range.size, level) > 0; level++) fn(level, fullTileCount(st.range.size, level));
}

/**
 * When tiles reach the flat-file mirror (TileMirror): newly full tiles right after the commit
 * that completed them, any backlog by a background timer in small steps, and a periodic sync
 * that makes them durable. Owns both timers; close() stops them and closes the mirror.
 */
export class TileMirrorScheduler {
  private syncTimer: NodeJS.Timeout | undefined;
  private catchUp: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly mirror: TileMirror,
    private readonly tiles: TileStore,
    private readonly storage: LogStorage,
    /** Every namespace, for the background catch-up. */
    private readonly allStates: () => Iterable<NamespaceState>,
  ) {}

  /** Checks the namespace's mirror files against the database; must run before any tile is read through the mirror. */
  validate(st: NamespaceState): void {
    forEachFullLevel(st, (level, full) =>
      this.mirror.validate(st.key, level, full, (i) => this.storage.readTile(st.key, level, i)),
    );
  }

  /** Starts copying the backlog in the background and syncing every `syncMs`. */
  start(syncMs: number): void {
    this.extend(this.allStates(), 0);
    this.syncTimer = setInterval(() => this.mirror.sync(), syncMs);
    this.syncTimer.unref();
  }

  /** After a commit: copies the tiles it completed (up to MIRROR_TILES_PER_COMMIT per level). */
  committed(states: Iterable<NamespaceState>): void {
    this.extend(states, MIRROR_TILES_PER_COMMIT);
  }

  /** No more background work: called when the engine starts closing (commits may still drain). */
  stopCatchUp(): void {
    this.stopping = true;
    if (this.catchUp !== undefined) clearTimeout(this.catchUp);
    this.catchUp = undefined;
  }

  /** Stops both timers and closes the mirror (a last sync included). */
  close(): void {
    this.stopCatchUp();
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    this.mirror.close();
  }

  /**
   * Copies newly completed full tiles into the mirror, at most `budget` per level now (0: none
   * now); any backlog (first open of a large log, rebuilt mirror) continues in the background.
   */
  private extend(states: Iterable<NamespaceState>, budget: number): void {
    const mirror = this.mirror;
    let backlog = false;
    for (const st of states) {
      forEachFullLevel(st, (level, full) => {
        if (mirror.written(st.key, level) >= full) return;
        if (budget === 0) {
          backlog = true;
          return;
        }
        const source = (i: number) => this.tiles.peek(st.key, level, i) ?? this.storage.readTile(st.key, level, i);
        if (mirror.extend(st.key, level, full, budget, source) > 0) backlog = true;
      });
    }
    if (backlog && this.catchUp === undefined && !this.stopping) {
      this.catchUp = setTimeout(() => {
        this.catchUp = undefined;
        if (!this.stopping) this.extend(this.allStates(), MIRROR_CATCH_UP_TILES);
      }, MIRROR_CATCH_UP_DELAY_MS);
      this.catchUp.unref();
    }
  }
}
