import { HASH_SIZE, RemembrancerError, TILE_HEIGHT, TILE_WIDTH } from '@vaultmesh/core';
import type { LogStorage, NamespaceKey, StoredTile, TileWrite } from '../storage/log-storage.js';
import { pathSiblingOffset } from './mirror-slot.js';
import { locateHash, rowLength, rowOffset } from './stored-tile-layout.js';
import type { TileMirror } from './tile-mirror.js';

export interface TileCacheStats {
  tiles: number;
  capacity: number;
  hits: number;
  /** Reads that missed the memory cache (served by the mirror or the database). */
  misses: number;
  /** Misses served by the flat-file mirror. */
  mirrorReads: number;
}

/**
 * Thrown by a synchronous read when a tile is neither in memory nor in the mirror: TileStore.read()
 * catches it, loads the tile from storage (awaiting) and runs the computation again. Never escapes
 * read().
 */
class TileMiss extends Error {
  constructor(
    readonly ns: NamespaceKey,
    readonly level: number,
    readonly index: number,
    readonly key: number | string,
  ) {
    super(`tile ${level}/${index} is not in memory`);
  }
}

interface CacheSlot {
  tile: StoredTile;
  /** Access clock value when the slot last moved to the young end. */
  stamp: number;
}

/**
 * Where a proof reads the siblings of its path through one tile (see TileStore.path()). The
 * same object is reused by every call: read it before the next read from the store.
 */
export interface PathSiblings {
  /** Bytes holding the hashes: a cached tile, or a path block of the mirror. */
  data: Uint8Array;
  /**
   * at[r] is the byte offset in `data` of the sibling at row r (0..7) of the path, -1 where the
   * tile does not hold it (beyond the width of a partial tile).
   */
  readonly at: Int32Array;
}

/** Offset of each row in a full tile, in bytes. */
const FULL_ROW_OFFSET: Int32Array = Int32Array.from(
  { length: TILE_HEIGHT },
  (_, r) => rowOffset(TILE_WIDTH, r) * HASH_SIZE,
);

/**
 * A number that identifies (ns, level, index), or a string where the number would not be exact:
 * numeric Map keys hash and compare much faster than strings built per lookup.
 */
function tileKey(ns: NamespaceKey, level: number, index: number): number | string {
  return ns < 65536 && index < 2 ** 30 ? (index * 64 + level) * 65536 + ns : `${ns}/${level}/${index}`;
}

/**
 * Read model of the hash store: tiles in memory, then the flat-file mirror of full tiles (if
 * any), then the database. Cached tiles are immutable (a commit replaces a tile object, never
 * edits it), so readers may hold views into them.
 *
 * Memory and the mirror answer synchronously, the database asynchronously. So every computation
 * over hashes (a proof, a root, an integration) is synchronous and runs inside read(), which
 * awaits storage for the tiles it missed and runs it again: the views and reused buffers a
 * computation holds (path(), reader(), the mirror's block) never span an await, and two requests
 * cannot interleave inside one.
 *
 * The memory cache has two regions. Level-0 tiles (one per 256 leaves) live in an approximate
 * LRU; proofs do not pull them in (a proof reads one path block of the mirror instead, see
 * path()), so under random reads of a large log it keeps the recently written tiles. Tiles of
 * levels >= 1 are 256 times fewer and every proof needs one of each level, so they get a region
 * of their own (a quarter of the capacity: all of them up to ~33M leaves with the default
 * capacity) that level-0 traffic cannot evict.
 */
export class TileStore {
  private readonly low = new Map<number | string, CacheSlot>();
  private readonly high = new Map<number | string, CacheSlot>();
  private readonly lowCapacity: number;
  private readonly highCapacity: number;
  private clock = 0;
  private hits = 0;
  private misses = 0;
  private mirrorReads = 0;
  private readonly pathView: PathSiblings = { data: new Uint8Array(0), at: new Int32Array(TILE_HEIGHT) };
  /**
   * Tiles the running read() loaded from storage (undefined: storage has none), kept for its
   * retries even if the cache evicts them. Set only while a computation runs synchronously.
   */
  private session: ReadonlyMap<number | string, StoredTile | undefined> | undefined;

  constructor(
    private readonly storage: LogStorage,
    /** Tiles kept in memory; a full tile takes 16 KiB. */
    private readonly capacity: number,
    private readonly mirror?: TileMirror,
    /**
     * Keep partial tiles read from storage (true: one writer, this process, whose commits install
     * every tile they change). With several front ends (false) another process grows the right
     * edge behind this one's back: a partial tile read now could be stale when cached, so only the
     * tiles installed by committed() — exactly those of the tree state the engine adopted — and
     * full tiles, which never change, are kept.
     */
    private readonly cachePartialLoads = true,
  ) {
    this.highCapacity = Math.max(1, capacity >>> 2);
    this.lowCapacity = Math.max(1, capacity - this.highCapacity);
  }

  /** A tile if it is in memory, without touching recency, the mirror or the database. */
  peek(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    return (level === 0 ? this.low : this.high).get(tileKey(ns, level, index))?.tile;
  }

  /**
   * Runs `compute`, a synchronous computation over this store's tiles, to completion: whenever it
   * needs a tile that only the database has, that tile is loaded (awaited) and `compute` runs
   * again from the start, so it must be safe to run again (no effect but warming caches). Each
   * retry loads one more tile, kept for the following attempts even if the cache evicts it: at
   * most as many runs as the computation has tiles in the database. Errors of `compute` and of
   * storage reject.
   */
  read<T>(compute: () => T): Promise<T> {
    // The common case, every tile in memory or mirrored: no await beyond the caller's own.
    let miss: TileMiss;
    try {
      return Promise.resolve(this.attempt(compute, undefined));
    } catch (error) {
      if (!(error instanceof TileMiss)) return Promise.reject(error);
      miss = error;
    }
    return this.readLoading(compute, miss);
  }

  private async readLoading<T>(compute: () => T, first: TileMiss): Promise<T> {
    const loaded = new Map<number | string, StoredTile | undefined>();
    for (let miss = first; ;) {
      if (loaded.has(miss.key)) {
        throw new RemembrancerError('INTERNAL', `tile ${miss.level}/${miss.index} was loaded but missed again`);
      }
      const stored = await this.storage.readTile(miss.ns, miss.level, miss.index);
      loaded.set(miss.key, stored);
      if (stored !== undefined && (this.cachePartialLoads || stored.width === TILE_WIDTH))
        this.remember(miss.level, miss.key, stored);
      try {
        return this.attempt(compute, loaded);
      } catch (error) {
        if (!(error instanceof TileMiss)) throw error;
        miss = error;
      }
    }
  }

  private attempt<T>(compute: () => T, loaded: ReadonlyMap<number | string, StoredTile | undefined> | undefined): T {
    const outer = this.session;
    this.session = loaded ?? NO_TILES;
    try {
      return compute();
    } finally {
      this.session = outer;
    }
  }

  /** The stored tile, or undefined if it does not exist yet (memory, mirror, then the database). */
  load(ns: NamespaceKey, level: number, index: number): Promise<StoredTile | undefined> {
    return this.read(() => this.tile(ns, level, index));
  }

  /** The stored tile, or undefined if it does not exist yet. Inside read() only. */
  tile(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    const key = tileKey(ns, level, index);
    const cached = this.cached(level, key);
    if (cached !== undefined) return cached;
    this.misses++;
    const mirrored = this.mirror?.read(ns, level, index);
    if (mirrored !== undefined) {
      this.mirrorReads++;
      this.remember(level, key, mirrored);
      return mirrored;
    }
    return this.stored(ns, level, index, key);
  }

  /** A tile the running read() loaded from the database, or a TileMiss for read() to load it. */
  private stored(ns: NamespaceKey, level: number, index: number, key: number | string): StoredTile | undefined {
    const session = this.session;
    if (session === undefined) {
      throw new RemembrancerError('INTERNAL', `tile ${level}/${index} read outside TileStore.read()`);
    }
    if (session.has(key)) return session.get(key);
    throw new TileMiss(ns, level, index, key);
  }

  /**
   * The siblings of the path through base position `position` (0..255) of tile (level, index):
   * where to read the hash at row r, index ((position >> r) ^ 1) of that tile, for every row r.
   * These are all the hashes an inclusion proof takes from a tile. A cached tile serves them from
   * memory; otherwise a mirrored tile serves them with one small read and is not cached (under
   * random proofs of a large log a level-0 tile is rarely read twice, and pulling 16 KiB into
   * memory per proof would cost more than the proof); otherwise the tile is read whole and
   * cached. Undefined if the tile does not exist. The result is reused by the next call.
   * Inside read() only.
   */
  path(ns: NamespaceKey, level: number, index: number, position: number): PathSiblings | undefined {
    const view = this.pathView;
    const at = view.at;
    const key = tileKey(ns, level, index);
    let t = this.cached(level, key);
    if (t === undefined) {
      this.misses++;
      // Levels >= 1 are worth caching while their region has room.
      const block =
        level === 0 || this.high.size >= this.highCapacity
          ? this.mirror?.pathBlock(ns, level, index, position)
          : undefined;
      if (block !== undefined) {
        this.mirrorReads++;
        view.data = block;
        for (let r = 0; r < TILE_HEIGHT; r++) at[r] = pathSiblingOffset(position, r);
        return view;
      }
      t = this.mirror?.read(ns, level, index);
      if (t !== undefined) {
        this.mirrorReads++;
        this.remember(level, key, t);
      } else {
        t = this.stored(ns, level, index, key);
        if (t === undefined) return undefined;
      }
    }
    view.data = t.data;
    const width = t.width;
    if (width === TILE_WIDTH) {
      for (let r = 0; r < TILE_HEIGHT; r++) at[r] = FULL_ROW_OFFSET[r]! + ((position >>> r) ^ 1) * HASH_SIZE;
    } else {
      let o = 0;
      for (let r = 0; r < TILE_HEIGHT; r++) {
        const len = width >>> r;
        const p = (position >>> r) ^ 1;
        at[r] = p < len ? (o + p) * HASH_SIZE : -1;
        o += len;
      }
    }
    return view;
  }

  /**
   * A reader for one namespace that remembers the last tile it used: proof plans list subtrees
   * bottom up, so consecutive hashes mostly come from the same tile. Level-0 tiles that are not in
   * memory but mirrored are read hash by hash from the mirror (one small block at a time) and not
   * cached, as in path(). Results are views: copy them before the next read. Inside read() only.
   */
  reader(ns: NamespaceKey): (level: number, index: number) => Uint8Array | undefined {
    let lastLevel = -1;
    let lastIndex = -1;
    let last: StoredTile | undefined;
    let mirrored = false;
    return (level, index) => {
      const row = level % TILE_HEIGHT;
      const tileLevel = (level - row) / TILE_HEIGHT;
      const perTile = TILE_WIDTH >>> row;
      const tileIndex = Math.floor(index / perTile);
      const position = index - tileIndex * perTile;
      if (tileLevel !== lastLevel || tileIndex !== lastIndex || (last === undefined && !mirrored)) {
        lastLevel = tileLevel;
        lastIndex = tileIndex;
        last = this.cached(tileLevel, tileKey(ns, tileLevel, tileIndex));
        mirrored = false;
        if (last === undefined) {
          const h = tileLevel === 0 ? this.mirror?.hashAt(ns, 0, tileIndex, row, position) : undefined;
          if (h !== undefined) {
            this.misses++;
            this.mirrorReads++;
            mirrored = true;
            return h;
          }
          last = this.tile(ns, tileLevel, tileIndex);
        }
      }
      if (mirrored) {
        const h = this.mirror!.hashAt(ns, 0, tileIndex, row, position);
        if (h !== undefined) return h;
        // The mirror failed under us: fall back to the database for this tile.
        mirrored = false;
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
  private cached(level: number, key: number | string): StoredTile | undefined {
    const cache = level === 0 ? this.low : this.high;
    const slot = cache.get(key);
    this.clock++;
    if (slot === undefined) return undefined;
    this.hits++;
    // Approximate LRU: Map order is insertion order and eviction takes the oldest; a hit moves
    // the slot to the young end only once it has aged, so hot tiles cost one lookup per read.
    if (this.clock - slot.stamp > this.capacity >>> 2) {
      cache.delete(key);
      slot.stamp = this.clock;
      cache.set(key, slot);
    }
    return slot.tile;
  }

  /**
   * The perfect subtree hash at tree level `level`, index `index`, or undefined if that subtree is
   * not complete in storage. A view: do not modify it, and copy it before the next tile read.
   * Inside read() only.
   */
  hash(ns: NamespaceKey, level: number, index: number): Uint8Array | undefined {
    const loc = locateHash(level, index);
    const t = this.tile(ns, loc.tileLevel, loc.tileIndex);
    if (t === undefined || loc.position >= rowLength(t.width, loc.row)) return undefined;
    const o = (rowOffset(t.width, loc.row) + loc.position) * HASH_SIZE;
    return t.data.subarray(o, o + HASH_SIZE);
  }

  /** Installs tiles that a commit has made durable. */
  committed(ns: NamespaceKey, writes: readonly TileWrite[]): void {
    for (const w of writes) this.remember(w.level, tileKey(ns, w.level, w.index), { width: w.width, data: w.data });
  }

  /**
   * Forgets the partial tiles of a tree of `size` (its right edge, one tile per tile level): the
   * tree grew elsewhere (another front end integrated), so they are no longer the stored ones.
   */
  forgetRightEdge(ns: NamespaceKey, size: number): void {
    // Hashes at tree level 8L: floor(size / 256^L); the tile holding the last of them is partial
    // unless they fill whole tiles.
    for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH)) {
      if (count % TILE_WIDTH !== 0)
        (level === 0 ? this.low : this.high).delete(tileKey(ns, level, Math.floor(count / TILE_WIDTH)));
    }
  }

  stats(): TileCacheStats {
    return {
      tiles: this.low.size + this.high.size,
      capacity: this.capacity,
      hits: this.hits,
      misses: this.misses,
      mirrorReads: this.mirrorReads,
    };
  }

  private remember(level: number, key: number | string, tile: StoredTile): void {
    const cache = level === 0 ? this.low : this.high;
    const capacity = level === 0 ? this.lowCapacity : this.highCapacity;
    // Tiles only grow: a narrower copy (a read that started before a wider one was installed) never replaces it.
    const held = cache.get(key);
    if (held !== undefined && held.tile.width > tile.width) return;
    cache.delete(key);
    cache.set(key, { tile, stamp: this.clock });
    while (cache.size > capacity) {
      const oldest = cache.keys().next().value as number | string;
      cache.delete(oldest);
    }
  }
}

const NO_TILES: ReadonlyMap<number | string, StoredTile | undefined> = new Map();

export function missingHash(level: number, index: number): RemembrancerError {
  return new RemembrancerError('STORAGE_FAILURE', `hash store is missing subtree level ${level} index ${index}`);
}
