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
import { HASH_SIZE, TILE_WIDTH } from '@vaultmesh/core';
import type { NamespaceKey, StoredTile } from '../storage/log-storage.js';
import type { LogEngineLogger } from './logger.js';
import {
  BLOCK_BYTES,
  FULL_TILE_BYTES,
  MIRROR_SLOT_BYTES,
  blockOf,
  fromMirrorSlot,
  offsetInBlock,
  toMirrorSlot,
} from './mirror-slot.js';

const STATE_FILE = 'mirror-state.json';
/** 2: path-block slots (1: stratified slots); files of another version are rebuilt. */
const STATE_VERSION = 2;
const MAX_OPEN_FILES = 128;

interface LevelState {
  ns: NamespaceKey;
  level: number;
  /** Tiles [0, durable) are written and fsynced: safe to read after any crash. */
  durable: number;
  /** Tiles [0, written) are written; [durable, written) wait for the next sync. */
  written: number;
  fd: number | undefined;
  lastUse: number;
}

/**
 * A read mirror of the full (immutable) hash tiles in flat files, one per namespace and tile
 * level, tile N at offset N × MIRROR_SLOT_BYTES. The database stays the source of truth; the
 * mirror exists because a pread from the OS page cache costs ~1 µs where a point lookup in a
 * 10⁷-row SQLite table costs ~10 µs, and the page cache, unlike an in-process cache, does not
 * count against the node's memory. So large logs serve random proofs at nearly in-memory latency:
 * one 1,088-byte read per proof for the level-0 tile, whatever the log size.
 *
 * Crash safety: tiles are appended in index order after their commit; a sync tick fdatasyncs the
 * files and only then records the durable prefix in mirror-state.json (write, fsync, rename).
 * After a crash, tiles past the recorded prefix are rewritten from the database. On open the last
 * durable tile of each file is compared with the database, so a mirror that does not belong to
 * the database (restored backup, copied directory) is discarded rather than served.
 */
export class TileMirror {
  /** Level states by namespace, then tile level. */
  private readonly byNs = new Map<NamespaceKey, (LevelState | undefined)[]>();
  private openFiles = 0;
  private clock = 0;
  private failed = false;
  private readonly slot = new Uint8Array(MIRROR_SLOT_BYTES);
  /** The last path block read, identified by level state, tile and block number. */
  private readonly block = {
    st: undefined as LevelState | undefined,
    index: -1,
    c: -1,
    data: new Uint8Array(BLOCK_BYTES),
  };

  constructor(
    readonly dir: string,
    private readonly logger: LogEngineLogger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    let saved: { version?: number; levels?: [number, number, number][] } = {};
    try {
      saved = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as typeof saved;
    } catch {
      // No state yet (or unreadable): everything is rebuilt from the database.
    }
    if (saved.version === STATE_VERSION && Array.isArray(saved.levels)) {
      for (const [ns, level, durable] of saved.levels) {
        if ([ns, level, durable].every((x) => Number.isSafeInteger(x) && x >= 0) && level < 64) {
          this.install({ ns, level, durable, written: durable, fd: undefined, lastUse: 0 });
        }
      }
    }
  }

  private state(ns: NamespaceKey, level: number): LevelState | undefined {
    return this.byNs.get(ns)?.[level];
  }

  private install(st: LevelState): void {
    let levels = this.byNs.get(st.ns);
    if (levels === undefined) this.byNs.set(st.ns, (levels = []));
    levels[st.level] = st;
  }

  private *allLevels(): Generator<LevelState> {
    for (const levels of this.byNs.values()) for (const st of levels) if (st !== undefined) yield st;
  }

  /**
   * Checks a level's mirror against the database before it is used: at most `fullTiles` may be
   * mirrored, and the last durable one must equal the stored tile. Otherwise the level restarts.
   * Runs on open, before any read or write of the level (nothing else touches it meanwhile).
   */
  async validate(
    ns: NamespaceKey,
    level: number,
    fullTiles: number,
    stored: (index: number) => Promise<StoredTile | undefined>,
  ): Promise<void> {
    const st = this.state(ns, level);
    if (this.failed || st === undefined || st.durable === 0) return;
    try {
      let ok = st.durable <= fullTiles;
      if (ok) {
        const mine = this.read(ns, level, st.durable - 1);
        const theirs = await stored(st.durable - 1);
        ok =
          mine !== undefined &&
          theirs !== undefined &&
          theirs.width === TILE_WIDTH &&
          Buffer.compare(mine.data, theirs.data) === 0;
      }
      if (!ok && !this.failed) {
        this.logger.warn({ ns, level, durable: st.durable }, 'tile mirror does not match the database; rebuilding it');
        this.closeFile(st);
        rmSync(this.path(ns, level), { force: true });
        st.durable = 0;
        st.written = 0;
        this.block.st = undefined;
        this.saveState();
      }
    } catch (error) {
      this.fail(error);
    }
  }

  /** A full tile (stored row-major layout) from the mirror, or undefined if not durably mirrored. */
  read(ns: NamespaceKey, level: number, index: number): StoredTile | undefined {
    const st = this.state(ns, level);
    if (this.failed || st === undefined || index >= st.durable) return undefined;
    try {
      if (readSync(this.fd(st), this.slot, 0, MIRROR_SLOT_BYTES, index * MIRROR_SLOT_BYTES) !== MIRROR_SLOT_BYTES)
        return undefined;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    return { width: TILE_WIDTH, data: fromMirrorSlot(this.slot) };
  }

  /**
   * The path block of base position `position` (0..255) of tile (level, index), if that tile is
   * durably mirrored: the hashes at pathSiblingOffset(position, row) are the siblings of the path
   * from `position` up through the tile. One pread (none if it is the block read last). A view
   * into a buffer that the next read overwrites: copy what you need at once.
   */
  pathBlock(ns: NamespaceKey, level: number, index: number, position: number): Uint8Array | undefined {
    const st = this.state(ns, level);
    if (this.failed || st === undefined || index >= st.durable) return undefined;
    return this.readBlock(st, index, position >>> 4);
  }

  /**
   * One hash (row, index within the row) of a durably mirrored full tile, or undefined if the
   * tile is not mirrored. A view that the next read overwrites.
   */
  hashAt(ns: NamespaceKey, level: number, tileIndex: number, row: number, index: number): Uint8Array | undefined {
    const st = this.state(ns, level);
    if (this.failed || st === undefined || tileIndex >= st.durable) return undefined;
    const b = this.block;
    // Rows 4..7 are in several blocks: use the block in hand if it holds this hash.
    const c =
      row >= 4 && b.st === st && b.index === tileIndex && ((b.c >>> (row - 4)) ^ 1) === index
        ? b.c
        : blockOf(row, index);
    const data = this.readBlock(st, tileIndex, c);
    if (data === undefined) return undefined;
    const o = offsetInBlock(row, index) * HASH_SIZE;
    return data.subarray(o, o + HASH_SIZE);
  }

  private readBlock(st: LevelState, index: number, c: number): Uint8Array | undefined {
    const b = this.block;
    if (b.st === st && b.index === index && b.c === c) return b.data;
    b.st = undefined;
    try {
      if (readSync(this.fd(st), b.data, 0, BLOCK_BYTES, index * MIRROR_SLOT_BYTES + c * BLOCK_BYTES) !== BLOCK_BYTES)
        return undefined;
    } catch (error) {
      this.fail(error);
      return undefined;
    }
    b.st = st;
    b.index = index;
    b.c = c;
    return b.data;
  }

  /** How many tiles of the level are written (durably or not). */
  written(ns: NamespaceKey, level: number): number {
    return this.state(ns, level)?.written ?? 0;
  }

  /**
   * Appends full tiles [written, min(fullTiles, written + budget)) taken from `source`; returns
   * how many tiles are still missing afterwards.
   */
  extend(
    ns: NamespaceKey,
    level: number,
    fullTiles: number,
    budget: number,
    source: (index: number) => StoredTile | undefined,
  ): number {
    if (this.failed) return 0;
    try {
      let st = this.state(ns, level);
      if (st === undefined) {
        st = { ns, level, durable: 0, written: 0, fd: undefined, lastUse: 0 };
        this.install(st);
        // Whatever a file here holds (another layout version, a lost state) is not ours.
        rmSync(this.path(ns, level), { force: true });
      }
      const stop = Math.min(fullTiles, st.written + budget);
      while (st.written < stop) {
        const t = source(st.written);
        if (t === undefined || t.width !== TILE_WIDTH || t.data.length !== FULL_TILE_BYTES) {
          throw new Error(`tile ${level}/${st.written} is not a full tile in the database`);
        }
        writeSync(this.fd(st), toMirrorSlot(t.data, this.slot), 0, MIRROR_SLOT_BYTES, st.written * MIRROR_SLOT_BYTES);
        st.written++;
      }
      return fullTiles - st.written;
    } catch (error) {
      this.fail(error);
      return 0;
    }
  }

  /** Makes everything written so far durable and records it. */
  sync(): void {
    if (this.failed) return;
    try {
      let changed = false;
      for (const st of this.allLevels()) {
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
    for (const st of this.allLevels()) this.closeFile(st);
  }

  private saveState(): void {
    const levels = [...this.allLevels()].filter((s) => s.durable > 0).map((s) => [s.ns, s.level, s.durable]);
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
      for (const s of this.allLevels())
        if (s.fd !== undefined && (victim === undefined || s.lastUse < victim.lastUse)) victim = s;
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
    this.block.st = undefined;
    this.logger.warn(
      { err: error, dir: this.dir },
      'tile mirror disabled after an I/O error; serving tiles from the database',
    );
  }
}
