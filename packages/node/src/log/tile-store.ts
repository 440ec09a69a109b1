import { RemembrancerError } from '@vaultmesh/core';
import type { LogStorage, NamespaceKey, StoredTile, TileWrite } from '../storage/log-storage.js';
import { HASH_SIZE, TILE_HEIGHT, TILE_WIDTH, locateHash, rowLength, rowOffset } from './tile-layout.js';
import type { MirroredTile, TileMirror } from './tile-mirror.js';

export interface TileCacheStats {
  tiles: number;
  capacity: number;
  hits: number;
  /** Reads that missed the memory cache (served by the mirror or the database). */
  misses: number;
  /** Misses served by the flat-file mirror. */
  mirrorReads: number;
}

interface CacheSlot {
  tile: StoredTile;
  /** Access clock value when the slot last moved to the young end. */
  stamp: number;
}

/**
 * Read model of the hash store: an LRU of tiles in memory, then the flat-file mirror of full
 * tiles (if any), then the database. Cached tiles are immutable (a commit replaces a tile object,
 * never edits it), so readers may hold views into them.
 */
export class TileStore {
  private readonly cache = new Map<string, CacheSlot>();
  private clock = 0;
  private hits = 0;
  private misses = 0;
  private mirrorReads = 0;

  constructor(
    private readonly storage: LogStorage,
    /** Tiles kept in memory; a full tile takes 16 KiB. */
    private readonly capacity: number,
    private readonly mirror?: TileMirror,
  ) {}

  /** A tile if it is in memory, without touching recency, the mirror or the database. */
  peek(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    return this.cache.get(`${ns}/${level}/${index}`)?.tile;
  }

  /** The stored tile, or undefined if it does not exist yet. */
  tile(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    const cached = this.cached(ns, level, index);
    if (cached !== undefined) return cached;
    this.misses++;
    const key = `${ns}/${level}/${index}`;
    const mirrored = this.mirror?.read(ns, level, index);
    if (mirrored !== undefined) {
      this.mirrorReads++;
      this.remember(key, mirrored);
      return mirrored;
    }
    const stored = this.storage.readTile(ns, level, index);
    if (stored !== undefined) this.remember(key, stored);
    return stored;
  }

  /**
   * A reader for one namespace that remembers the last tile it used: proof plans list subtrees
   * bottom up, so consecutive hashes mostly come from the same tile. Level-0 tiles that are not in
   * memory but mirrored are read hash by hash from the mirror (one 960-byte block per stratum)
   * and not cached: under random access to a large log they are rarely read twice, and pulling
   * 16 KiB into the cache per proof would cost more than the proof. Results are views: copy them
   * before the next read.
   */
  reader(ns: NamespaceKey): (level: number, index: number) => Uint8Array | undefined {
    let lastLevel = -1;
    let lastIndex = -1;
    let last: StoredTile | undefined;
    let mirrored: MirroredTile | undefined;
    return (level, index) => {
      const row = level % TILE_HEIGHT;
      const tileLevel = (level - row) / TILE_HEIGHT;
      const perTile = TILE_WIDTH >>> row;
      const tileIndex = Math.floor(index / perTile);
      const position = index - tileIndex * perTile;
      if (tileLevel !== lastLevel || tileIndex !== lastIndex || (last === undefined && mirrored === undefined)) {
        lastLevel = tileLevel;
        lastIndex = tileIndex;
        last = this.cached(ns, tileLevel, tileIndex);
        mirrored = undefined;
        if (last === undefined) {
          mirrored = tileLevel === 0 ? this.mirror?.handle(ns, 0, tileIndex) : undefined;
          if (mirrored !== undefined) {
            this.misses++;
            this.mirrorReads++;
          } else {
            last = this.tile(ns, tileLevel, tileIndex);
          }
        }
      }
      if (mirrored !== undefined) {
        const h = this.mirror!.hashIn(mirrored, row, position);
        if (h !== undefined) return h;
        // The mirror failed under us: fall back to the database for this tile.
        mirrored = undefined;
        last = this.tile(ns, tileLevel, tileIndex);
      }
      const t = last;
      if (t === undefined || position >= t.width >>> row) {
        // A cached tile may predate a wider one only if storage changed behind our back.
        last = undefined;
        return undefined;
      }
      const o = (rowOffset(t.width, row) + position) * HASH_SIZE;
      return t.data.subarray(o, o + HASH_SIZE);
    };
  }

  /** The tile if it is in memory (refreshing its recency), without reading anything. */
  private cached(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    const key = `${ns}/${level}/${index}`;
    const slot = this.cache.get(key);
    this.clock++;
    if (slot === undefined) return undefined;
    this.hits++;
    // Approximate LRU: Map order is insertion order and eviction takes the oldest; a hit moves
    // the slot to the young end only once it has aged, so hot tiles cost one lookup per read.
    if (this.clock - slot.stamp > this.capacity >>> 2) {
      this.cache.delete(key);
      slot.stamp = this.clock;
      this.cache.set(key, slot);
    }
    return slot.tile;
  }

  /**
   * The perfect subtree hash at tree level `level`, index `index`, or undefined if that subtree is
   * not complete in storage. A view: do not modify it, and copy it before the next tile read.
   */
  hash(ns: NamespaceKey, level: number, index: number): Uint8Array | undefined {
    const loc = locateHash(level, index);
    const t = this.tile(ns, loc.tileLevel, loc.tileIndex);
    if (t === undefined || loc.position >= rowLength(t.width, loc.row)) return undefined;
    const o = (rowOffset(t.width, loc.row) + loc.position) * HASH_SIZE;
    return t.data.subarray(o, o + HASH_SIZE);
  }

  /** Like hash(), but a missing hash means the store is inconsistent with the tree state. */
  requireHash(ns: NamespaceKey, level: number, index: number): Uint8Array {
    const h = this.hash(ns, level, index);
    if (h === undefined) throw missingHash(level, index);
    return h;
  }

  /** Installs tiles that a commit has made durable. */
  committed(ns: NamespaceKey, writes: readonly TileWrite[]): void {
    for (const w of writes) this.remember(`${ns}/${w.level}/${w.index}`, { width: w.width, data: w.data });
  }

  stats(): TileCacheStats {
    return { tiles: this.cache.size, capacity: this.capacity, hits: this.hits, misses: this.misses, mirrorReads: this.mirrorReads };
  }

  private remember(key: string, tile: StoredTile): void {
    this.cache.delete(key);
    this.cache.set(key, { tile, stamp: this.clock });
    while (this.cache.size > this.capacity) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
  }
}

export function missingHash(level: number, index: number): RemembrancerError {
  return new RemembrancerError('STORAGE_FAILURE', `hash store is missing subtree level ${level} index ${index}`);
}
