import {
  closeSync,
  constants,
  fdatasyncSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import type { NamespaceKey, StoredTile } from '../storage/log-storage.js';
import type { LogEngineLogger } from './logger.js';
import { HASH_SIZE, TILE_WIDTH, tileHashCount } from './tile-layout.js';

/** Bytes of a full tile with its interior rows (510 hashes). */
export const FULL_TILE_BYTES = tileHashCount(TILE_WIDTH) * HASH_SIZE;

/*
 * Mirror slot layout: the tile split in height-4 strata, so one proof path through a tile touches
 * two 960-byte blocks instead of the whole 16 KiB. Block 0 holds rows 4..7 (16+8+4+2 hashes);
 * block 1+c holds rows 0..3 of base positions 16c..16c+15 (again 16+8+4+2 hashes).
 */
const BLOCK_HASHES = 30;
const BLOCK_BYTES = BLOCK_HASHES * HASH_SIZE;
const STRATUM_ROW_OFFSET = [0, 16, 24, 28] as const;

/** Position (in hashes) of row `row`, position `position` of a full tile in the mirror slot. */
export function stratifiedOffset(row: number, position: number): number {
  if (row >= 4) return STRATUM_ROW_OFFSET[row - 4]! + position;
  const shift = 4 - row;
  const chunk = position >>> shift;
  return BLOCK_HASHES * (1 + chunk) + STRATUM_ROW_OFFSET[row]! + (position & ((1 << shift) - 1));
}

/** PERMUTATION[i] = stratified position of the i-th hash of the row-major (stored) layout. */
const PERMUTATION: Int32Array = (() => {
  const p = new Int32Array(tileHashCount(TILE_WIDTH));
  let i = 0;
  for (let row = 0; row < 8; row++) for (let pos = 0; pos < TILE_WIDTH >>> row; pos++) p[i++] = stratifiedOffset(row, pos);
  return p;
})();

export function toStratified(rowMajor: Uint8Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < PERMUTATION.length; i++) out.set(rowMajor.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE), PERMUTATION[i]! * HASH_SIZE);
  return out;
}

export function fromStratified(stratified: Uint8Array, out: Uint8Array): Uint8Array {
  for (let i = 0; i < PERMUTATION.length; i++) {
    const o = PERMUTATION[i]! * HASH_SIZE;
    out.set(stratified.subarray(o, o + HASH_SIZE), i * HASH_SIZE);
  }
  return out;
}
const STATE_FILE = 'mirror-state.json';
const STATE_VERSION = 1;
const MAX_OPEN_FILES = 128;

/** See TileMirror.handle(). */
export interface MirroredTile {
  readonly st: LevelState;
  readonly index: number;
  upper: Uint8Array | undefined;
}

interface LevelState {
  ns: NamespaceKey;
  level: number;
  /** Tiles [0, durable) are written and fsynced: safe to read after any crash. */
  durable: number;
  /** Tiles [0, written) are written; [durable, written) wait for the next sync. */
  written: number;
  fd: number | undefined;
  lastUse: number;
  /** Upper-stratum blocks of tiles [c·4096, (c+1)·4096), by chunk number c. */
  upper: Map<number, UpperChunk>;
}

const UPPER_CHUNK_TILES = 4096;

interface UpperChunk {
  data: Uint8Array;
  /** loaded[i] = 1 once tile c·4096+i's upper block is in data. */
  loaded: Uint8Array;
  lastUse: number;
}

/**
 * A read mirror of the full (immutable) hash tiles in flat files, one per namespace and tile
 * level, tile N at offset N × 16,320. The database stays the source of truth; the mirror exists
 * because a pread from the OS page cache costs ~2 µs where a point lookup in a 10⁷-row SQLite
 * table costs ~10 µs, and the page cache, unlike an in-process cache, does not count against the
 * node's memory. So large logs serve random proofs at nearly in-memory latency.
 *
 * Crash safety: tiles are appended in index order after their commit; a sync tick fdatasyncs the
 * files and only then records the durable prefix in mirror-state.json (write, fsync, rename).
 * After a crash, tiles past the recorded prefix are rewritten from the database. On open the last
 * durable tile of each file is compared with the database, so a mirror that does not belong to
 * the database (restored backup, copied directory) is discarded rather than served.
 */
export class TileMirror {
  private readonly levels = new Map<string, LevelState>();
  private openFiles = 0;
  private clock = 0;
  private failed = false;
  private readonly slot = new Uint8Array(FULL_TILE_BYTES);
  /** The last lower-stratum block read, identified by file, tile and block number. */
  private readonly lower = { st: undefined as LevelState | undefined, index: -1, blockNo: -1, data: new Uint8Array(BLOCK_BYTES) };
  /** Upper-stratum chunks held, over all levels (bounded by maxUpperChunks). */
  private upperChunks = 0;
  private readonly maxUpperChunks: number;

  constructor(
    readonly dir: string,
    private readonly logger: LogEngineLogger,
    /**
     * Memory for upper-stratum blocks (rows 4..7, 960 bytes per tile). Every proof through a tile
     * needs its upper block, and there are only 3.75 bytes of them per leaf, so holding them
     * leaves one small read per proof. Default 64 MiB: all of them up to ~17M leaves.
     */
    upperCacheBytes = 64 * 1024 * 1024,
  ) {
    this.maxUpperChunks = Math.max(1, Math.floor(upperCacheBytes / (UPPER_CHUNK_TILES * BLOCK_BYTES)));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let saved: { version?: number; levels?: [number, number, number][] } = {};
    try {
      saved = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as typeof saved;
    } catch {
      // No state yet (or unreadable): everything is rebuilt from the database.
    }
    if (saved.version === STATE_VERSION && Array.isArray(saved.levels)) {
      for (const [ns, level, durable] of saved.levels) {
        if ([ns, level, durable].every((x) => Number.isSafeInteger(x) && x >= 0)) {
          this.levels.set(`${ns}/${level}`, { ns, level, durable, written: durable, fd: undefined, lastUse: 0, upper: new Map() });
        }
      }
    }
  }

  /**
   * Checks a level's mirror against the database before it is used: at most `fullTiles` may be
   * mirrored, and the last durable one must equal the stored tile. Otherwise the level restarts.
   */
  validate(ns: NamespaceKey, level: number, fullTiles: number, stored: (index: number) => StoredTile | undefined): void {
    const st = this.levels.get(`${ns}/${level}`);
    if (this.failed || st === undefined || st.durable === 0) return;
    try {
      let ok = st.durable <= fullTiles;
      if (ok) {
        const mine = this.read(ns, level, st.durable - 1);
        const theirs = stored(st.durable - 1);
        ok = mine !== undefined && theirs !== undefined && theirs.width === TILE_WIDTH && Buffer.compare(mine.data, theirs.data) === 0;
      }
      if (!ok && !this.failed) {
        this.logger.warn({ ns, level, durable: st.durable }, 'tile mirror does not match the database; rebuilding it');
        this.closeFile(st);
        rmSync(this.path(ns, level), { force: true });
        st.durable = 0;
        st.written = 0;
        this.lower.st = undefined;
        this.upperChunks -= st.upper.size;
        st.upper.clear();
        this.saveState();
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** A full tile (stored row-major layout) from the mirror, or undefined if not durably mirrored. */
  read(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    const st = this.levels.get(`${ns}/${level}`);
    if (this.failed || st === undefined || index >= st.durable) return undefined;
    try {
      if (readSync(this.fd(st), this.slot, 0, FULL_TILE_BYTES, index * FULL_TILE_BYTES) !== FULL_TILE_BYTES) return undefined;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    return { width: TILE_WIDTH, data: fromStratified(this.slot, new Uint8Array(FULL_TILE_BYTES)) };
  }

  /**
   * A handle on a durably mirrored full tile for reading single hashes with hashIn(), or undefined
   * if the tile is not mirrored. Resolve once per tile, then read its hashes.
   */
  handle(ns: NamespaceKey, level: number, index: number): MirroredTile | undefined {
    const st = this.levels.get(`${ns}/${level}`);
    if (this.failed || st === undefined || index >= st.durable) return undefined;
    return { st, index, upper: undefined };
  }

  /**
   * One hash of a mirrored tile, reading at most one 960-byte block. The result is a view into a
   * buffer that later reads may overwrite: copy it or use it at once.
   */
  hashIn(tile: MirroredTile, row: number, position: number): Uint8Array | undefined {
    if (this.failed) return undefined;
    const at = stratifiedOffset(row, position);
    const blockNo = Math.floor(at / BLOCK_HASHES);
    let data: Uint8Array | undefined;
    if (blockNo === 0) {
      data = tile.upper ?? this.upperBlock(tile);
      if (data === undefined) return undefined;
    } else {
      const l = this.lower;
      if (l.st !== tile.st || l.index !== tile.index || l.blockNo !== blockNo) {
        l.st = undefined;
        if (this.readBlock(tile.st, tile.index, blockNo, l.data) === undefined) return undefined;
        l.st = tile.st;
        l.index = tile.index;
        l.blockNo = blockNo;
      }
      data = l.data;
    }
    const o = (at - blockNo * BLOCK_HASHES) * HASH_SIZE;
    return data.subarray(o, o + HASH_SIZE);
  }

  private upperBlock(tile: MirroredTile): Uint8Array | undefined {
    const st = tile.st;
    const c = Math.floor(tile.index / UPPER_CHUNK_TILES);
    const slot = tile.index - c * UPPER_CHUNK_TILES;
    let chunk = st.upper.get(c);
    if (chunk === undefined) {
      if (this.upperChunks >= this.maxUpperChunks) this.evictUpperChunk();
      chunk = { data: new Uint8Array(UPPER_CHUNK_TILES * BLOCK_BYTES), loaded: new Uint8Array(UPPER_CHUNK_TILES), lastUse: 0 };
      st.upper.set(c, chunk);
      this.upperChunks++;
    }
    chunk.lastUse = ++this.clock;
    const block = chunk.data.subarray(slot * BLOCK_BYTES, (slot + 1) * BLOCK_BYTES);
    if (chunk.loaded[slot] === 0) {
      if (this.readBlock(st, tile.index, 0, block) === undefined) return undefined;
      chunk.loaded[slot] = 1;
    }
    tile.upper = block;
    return block;
  }

  private evictUpperChunk(): void {
    let victim: { st: LevelState; c: number; lastUse: number } | undefined;
    for (const st of this.levels.values()) {
      for (const [c, chunk] of st.upper) if (victim === undefined || chunk.lastUse < victim.lastUse) victim = { st, c, lastUse: chunk.lastUse };
    }
    if (victim !== undefined) {
      victim.st.upper.delete(victim.c);
      this.upperChunks--;
    }
  }

  private readBlock(st: LevelState, index: number, blockNo: number, into: Uint8Array): Uint8Array | undefined {
    try {
      const n = readSync(this.fd(st), into, 0, BLOCK_BYTES, index * FULL_TILE_BYTES + blockNo * BLOCK_BYTES);
      return n === BLOCK_BYTES ? into : undefined;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
  }

  /** How many tiles of the level are written (durably or not). */
  written(ns: NamespaceKey, level: number): number {
    return this.levels.get(`${ns}/${level}`)?.written ?? 0;
  }

  /**
   * Appends full tiles [written, min(fullTiles, written + budget)) taken from `source`; returns
   * how many tiles are still missing afterwards.
   */
  extend(ns: NamespaceKey, level: number, fullTiles: number, budget: number, source: (index: number) => StoredTile | undefined): number {
    if (this.failed) return 0;
    const key = `${ns}/${level}`;
    let st = this.levels.get(key);
    if (st === undefined) {
      st = { ns, level, durable: 0, written: 0, fd: undefined, lastUse: 0, upper: new Map() };
      this.levels.set(key, st);
    }
    try {
      const stop = Math.min(fullTiles, st.written + budget);
      while (st.written < stop) {
        const t = source(st.written);
        if (t === undefined || t.width !== TILE_WIDTH || t.data.length !== FULL_TILE_BYTES) {
          throw new Error(`tile ${level}/${st.written} is not a full tile in the database`);
        }
        writeSync(this.fd(st), toStratified(t.data, this.slot), 0, FULL_TILE_BYTES, st.written * FULL_TILE_BYTES);
        st.written++;
      }
    } catch (error) {
      this.fail(error);
      return 0;
    }
    return fullTiles - st.written;
  }

  /** Makes everything written so far durable and records it. */
  sync(): void {
    if (this.failed) return;
    try {
      let changed = false;
      for (const st of this.levels.values()) {
        if (st.written === st.durable) continue;
        fdatasyncSync(this.fd(st));
        st.durable = st.written;
        changed = true;
      }
      if (changed) this.saveState();
    } catch (error) {
      this.fail(error);
    }
  }

  close(): void {
    this.sync();
    for (const st of this.levels.values()) this.closeFile(st);
  }

  private saveState(): void {
    const levels = [...this.levels.values()].filter((s) => s.durable > 0).map((s) => [s.ns, s.level, s.durable]);
    const tmp = join(this.dir, `${STATE_FILE}.tmp`);
    writeFileSync(tmp, JSON.stringify({ version: STATE_VERSION, levels }), { mode: 0o600 });
    const fd = openSync(tmp, 'r+');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, STATE_FILE));
  }

  private path(ns: NamespaceKey, level: number): string {
    return join(this.dir, `ns-${ns}-level-${level}.tiles`);
  }

  private fd(st: LevelState): number {
    st.lastUse = ++this.clock;
    if (st.fd !== undefined) return st.fd;
    if (this.openFiles >= MAX_OPEN_FILES) {
      // Close the least recently used file; unsynced writes are synced first so nothing is lost.
      let victim: LevelState | undefined;
      for (const s of this.levels.values()) if (s.fd !== undefined && (victim === undefined || s.lastUse < victim.lastUse)) victim = s;
      if (victim !== undefined) {
        if (victim.written !== victim.durable) fdatasyncSync(victim.fd!);
        this.closeFile(victim);
      }
    }
    // Read-write, created if missing, never truncated; not O_APPEND, which would ignore positions.
    st.fd = openSync(this.path(st.ns, st.level), constants.O_RDWR | constants.O_CREAT, 0o600);
    this.openFiles++;
    return st.fd;
  }

  private closeFile(st: LevelState): void {
    if (st.fd === undefined) return;
    try {
      closeSync(st.fd);
    } catch {
      // Already closed or invalid: nothing to release.
    }
    st.fd = undefined;
    this.openFiles--;
  }

  /** Any I/O failure turns the mirror off: reads fall back to the database, which has everything. */
  private fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.warn({ err: error, dir: this.dir }, 'tile mirror disabled after an I/O error; serving tiles from the database');
  }
}
