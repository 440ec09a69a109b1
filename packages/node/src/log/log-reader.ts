import {
  HASH_SIZE,
  MAX_TILE_LEVEL,
  bytesEqual,
  RemembrancerError,
  TILE_WIDTH,
  consistencyProofPlan,
  encodeEntryBundle,
} from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import type { PublishedCheckpoint } from './log-engine.js';
import type { NamespaceState } from './namespace-state.js';
import { computeEdgeFolds, hashPlan, inclusionProofFromTiles, rootFromEdge, type EdgeFolds } from './proof-builder.js';
import { c2spTileBytes } from './stored-tile-layout.js';
import { missingHash, type TileStore } from './tile-store.js';

/** Right-edge tables cached per namespace: proofs cluster on a few sizes (the tree, the latest checkpoints). */
const EDGE_CACHE_SIZES = 8;

/** better-sqlite3 hands out Buffers; callers get plain Uint8Arrays whatever the backend. */
export function plainBytes(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** Whether hash `i` of packed hashes equals `hash`. */
function hashAt(packed: Uint8Array, i: number, hash: Uint8Array): boolean {
  const o = i * HASH_SIZE;
  for (let k = 0; k < HASH_SIZE; k++) if (packed[o + k] !== hash[k]) return false;
  return true;
}

function checkIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative safe integer, got ${String(value)}`,
    );
  }
}

function checkSize(st: NamespaceState, size: number): void {
  checkIndex('size', size);
  if (size > st.range.size) {
    throw new RemembrancerError('SIZE_OUT_OF_RANGE', `size ${size} exceeds the integrated size ${st.range.size}`);
  }
}

function checkTileCoordinates(level: number, index: number, width: number): void {
  if (!Number.isSafeInteger(level) || level < 0 || level > MAX_TILE_LEVEL) {
    throw new RemembrancerError('INVALID_ARGUMENT', `tile level must be 0..${MAX_TILE_LEVEL}, got ${String(level)}`);
  }
  checkIndex('tile index', index);
  if (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
    throw new RemembrancerError('INVALID_ARGUMENT', `tile width must be 1..${TILE_WIDTH}, got ${String(width)}`);
  }
}

/**
 * The read side of a namespace's log: entries, roots, proofs, tiles and entry bundles, all from
 * the integrated tree. Arguments are checked here (they come from requests); the namespace
 * state is the caller's lookup. Every method answers a promise (storage may answer over a
 * network); computations over hashes run inside TileStore.read(). The proof methods are not
 * async functions: the hottest reads skip a promise and a turn that way (measured: about a tenth
 * of the proof rate), so they throw on bad arguments, which the engine turns into rejections.
 */
export class LogReader {
  constructor(
    private readonly storage: LogStorage,
    private readonly tiles: TileStore,
  ) {}

  async getEntry(st: NamespaceState, index: number): Promise<Uint8Array | undefined> {
    if (!Number.isSafeInteger(index) || index < 0 || index >= st.range.size) return undefined;
    const e = await this.storage.readEntry(st.key, index);
    return e === undefined ? undefined : plainBytes(e);
  }

  /** Entries [start, min(end, size)), in order. */
  async getEntries(st: NamespaceState, start: number, end: number): Promise<Uint8Array[]> {
    checkIndex('start', start);
    checkIndex('end', end);
    if (start > end) throw new RemembrancerError('INVALID_RANGE', `range [${start}, ${end}) is reversed`);
    const stop = Math.min(end, st.range.size);
    if (start >= stop) return [];
    const out = (await this.storage.readEntries(st.key, start, stop)).map(plainBytes);
    if (out.length !== stop - start) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `entries [${start}, ${stop}) of ${st.record.id} are incomplete in storage`,
      );
    }
    return out;
  }

  rootAt(st: NamespaceState, size: number): Promise<Uint8Array> {
    checkSize(st, size);
    if (size === st.range.size) return Promise.resolve((st.root ??= st.range.root()).slice());
    return this.tiles.read(() => rootFromEdge(this.edge(st, size)).slice());
  }

  inclusionProof(st: NamespaceState, index: number, size: number): Promise<Uint8Array[]> {
    checkSize(st, size);
    checkIndex('index', index);
    if (index >= size)
      throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
    return this.tiles.read(() => inclusionProofFromTiles(this.tiles, st.key, index, size, (s) => this.edge(st, s)));
  }

  consistencyProof(st: NamespaceState, from: number, to: number): Promise<Uint8Array[]> {
    checkIndex('from', from);
    checkSize(st, to);
    if (from > to)
      throw new RemembrancerError('INVALID_RANGE', `consistency proof from size ${from} to smaller size ${to}`);
    const plan = consistencyProofPlan(from, to);
    return this.tiles.read(() => hashPlan(plan, this.tiles.reader(st.key), () => this.edge(st, to)));
  }

  leafHashAt(st: NamespaceState, index: number): Promise<Uint8Array> {
    checkIndex('index', index);
    if (index >= st.range.size) {
      throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${st.range.size}`);
    }
    // One hash: read through the mirror if the tile is not in memory, rather than caching 16 KiB.
    return this.tiles.read(() => {
      const h = this.tiles.reader(st.key)(0, index);
      if (h === undefined) throw missingHash(0, index);
      return h.slice();
    });
  }

  /**
   * The first index whose leaf hash is `leafHash`, from the leaf-hash index (whose keys may
   * collide: each candidate is checked against the tree), or undefined if no entry has it.
   */
  async findLeaf(st: NamespaceState, leafHash: Uint8Array): Promise<number | undefined> {
    if (!(leafHash instanceof Uint8Array) || leafHash.length !== HASH_SIZE) {
      throw new RemembrancerError('INVALID_ARGUMENT', `a leaf hash is ${HASH_SIZE} bytes`);
    }
    const size = st.range.size;
    // Complete chunks: their runs, a chunk with candidates at a time (many copies of one entry
    // are read only as far as the first chunk holding one).
    for (let from = 0; ;) {
      const found = await this.storage.leafCandidates(st.key, leafHash, from);
      if (found === undefined) break;
      for (const index of found.indices) {
        if (index < size && bytesEqual(await this.leafHashAt(st, index), leafHash)) return index;
      }
      from = found.chunk + 1;
    }
    // The entries after the last run: their leaf hashes are the level-0 tiles of the chunk.
    const indexed = Math.min(await this.storage.leafIndexedSize(st.key), size);
    for (let t = Math.floor(indexed / TILE_WIDTH); t * TILE_WIDTH < size; t++) {
      // Whole tiles (immutable objects), so a view of one may be held across the next await.
      const tile = await this.tiles.load(st.key, 0, t);
      if (tile === undefined) throw missingHash(0, t * TILE_WIDTH);
      const n = Math.min(tile.width, size - t * TILE_WIDTH);
      for (let i = 0; i < n; i++) if (hashAt(tile.data, i, leafHash)) return t * TILE_WIDTH + i;
    }
    return undefined;
  }

  async readTile(st: NamespaceState, level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    checkTileCoordinates(level, index, width);
    const t = await this.tiles.load(st.key, level, index);
    if (t === undefined || t.width < width) return undefined;
    return c2spTileBytes(t.data, width).slice();
  }

  async readEntryBundle(st: NamespaceState, index: number, width: number): Promise<Uint8Array | undefined> {
    checkTileCoordinates(0, index, width);
    const start = index * TILE_WIDTH;
    if (start + width > st.range.size) return undefined;
    const entries = await this.storage.readEntries(st.key, start, start + width);
    if (entries.length !== width) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `entry bundle ${index} of ${st.record.id} is incomplete in storage`,
      );
    }
    return encodeEntryBundle(entries);
  }

  /** Stored checkpoints, oldest first, the newest `limit` of them. */
  async checkpointHistory(st: NamespaceState, limit: number): Promise<PublishedCheckpoint[]> {
    if (!Number.isSafeInteger(limit) || limit < 1)
      throw new RemembrancerError('INVALID_ARGUMENT', 'limit must be a positive integer');
    return (await this.storage.checkpointHistory(st.key, limit)).map((c) => ({ ...c, root: plainBytes(c.root) }));
  }

  /**
   * The right-edge table at `size`, from a small per-namespace cache (they never change: the log
   * is append-only). Inside TileStore.read() only.
   */
  edge(st: NamespaceState, size: number): EdgeFolds {
    let e = st.edges.get(size);
    if (e === undefined) {
      e = computeEdgeFolds(size, size === st.range.size ? st.range.hashes : undefined, this.tiles.reader(st.key));
      st.edges.set(size, e);
      if (st.edges.size > EDGE_CACHE_SIZES) st.edges.delete(st.edges.keys().next().value as number);
    }
    return e;
  }
}
