import {
  MAX_ENTRY_BYTES,
  assertNamespaceId,
  CompactRange,
  EMPTY_ROOT,
  NoteSigner,
  RemembrancerError,
  bytesEqual,
  isRemembrancerError,
  consistencyProofPlan,
  leafHash,
  rangeDecomposition,
  signCheckpoint,
} from '@vaultmesh/core';
import type { LogStorage, NamespaceKey, StoredNamespace } from '../storage/log-storage.js';
import { loadBatchHasher, type EngineBatchHasher } from '../hashing/index.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import { integrate, jsPairHasher, type Integration, type PairHasher } from './integrator.js';
import type { AppendResult, LogEngine, NamespaceRecord, PublishedCheckpoint } from './log-engine.js';
import { silentLogger, type LogEngineLogger } from './logger.js';
import type { NamespaceState } from './namespace-state.js';
import { computeEdgeFolds, hashPlan, inclusionProofFromTiles, rootFromEdge, type EdgeFolds } from './proof-builder.js';
import { Sequencer, type NamespaceGroup, type SequencerStats } from './sequencer.js';
import { TILE_WIDTH, c2spTileBytes, leavesPerTileHash } from './tile-layout.js';
import { TileMirror } from './tile-mirror.js';
import { TileStore, missingHash, type TileCacheStats } from './tile-store.js';

/** C2SP tlog-tiles entry bundles use a 16-bit length prefix, so an entry holds at most 65,535 bytes. */

export interface LogEngineConfig {
  /** This node's name; checkpoint origins are `<nodeName>/<namespace id>`. */
  nodeName: string;
  /** 32-byte Ed25519 seed of the node's log key; it signs every namespace's checkpoints. */
  logSeed: Uint8Array;
  /** Period of the checkpoint publisher (default 1000 ms; 0 disables the timer). */
  checkpointIntervalMs?: number;
  /** Checkpoints kept per namespace, newest first (default 1000). */
  checkpointRetention?: number;
  /** Entries per group commit (default 4096). */
  batchMaxEntries?: number;
  /** Longest wait of a queued entry before its batch commits (default 5 ms). */
  batchMaxAgeMs?: number;
  /**
   * Pending entries beyond which append is refused with QUEUE_FULL (default 65,536). Namespaces
   * share it fairly: one with pending work may hold at most half of what the others leave (see
   * Sequencer), so a lone namespace may queue half of it.
   */
  queueMaxEntries?: number;
  /** Pending payload bytes beyond which append is refused with QUEUE_FULL (default 64 MiB), shared the same way. */
  queueMaxBytes?: number;
  /**
   * Hashing for whole batches (default: loadBatchHasher(), the native addon or its node:crypto
   * fallback); with nodeHashesPacked the interior nodes of a batch are hashed a tree level per call.
   */
  batchHasher?: EngineBatchHasher;
  /**
   * Hash tiles kept in memory (default 2048, ≤ 32 MiB): three quarters for level-0 tiles (recently
   * written or read), a quarter reserved for the 256× fewer tiles of higher levels that every
   * proof needs (see TileStore).
   */
  tileCacheTiles?: number;
  /**
   * Directory of the flat-file mirror of full hash tiles (see tile-mirror.ts); none if omitted
   * or false. openLogEngine puts it next to the database by default.
   */
  tileMirrorDir?: string | false;
  /** How often mirrored tiles are fsynced and recorded (default 1000 ms). */
  tileMirrorSyncMs?: number;
  logger?: LogEngineLogger;
}

export interface LogEngineStats extends SequencerStats {
  namespaces: number;
  checkpointsPublished: number;
  tileCache: TileCacheStats;
}

/** The engine as the node uses it: the LogEngine contract plus counters for metrics and tests. */
export interface ObservableLogEngine extends LogEngine {
  stats(): LogEngineStats;
}

function positiveInt(name: string, value: number | undefined, fallback: number, min = 1): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new RemembrancerError('CONFIG_INVALID', `${name} must be an integer >= ${min}, got ${String(value)}`);
  }
  return v;
}

function checkIndex(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a non-negative safe integer, got ${String(value)}`);
  }
}

function plainBytes(b: Uint8Array): Uint8Array {
  // better-sqlite3 hands out Buffers; callers get plain Uint8Arrays whatever the backend.
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function copyRecord(r: NamespaceRecord): NamespaceRecord {
  return { ...r, policy: structuredClone(r.policy) };
}

/**
 * The log engine over any LogStorage: sequencer (group commit, pushback, fair scheduling),
 * integrator (compact range + tiles, in the same transaction as sequencing, so every committed
 * entry is integrated), tile-based proofs and the checkpoint publisher.
 */
export class TiledLogEngine implements ObservableLogEngine {
  private readonly byId = new Map<string, NamespaceState>();
  private readonly byKey = new Map<NamespaceKey, NamespaceState>();
  /** Committed entry bytes per namespace: restored from storage on open, advanced by each commit. */
  private readonly storedBytesByKey = new Map<NamespaceKey, number>();
  private readonly tiles: TileStore;
  private readonly mirror: TileMirror | undefined;
  private mirrorSyncTimer: NodeJS.Timeout | undefined;
  private mirrorCatchUp: NodeJS.Timeout | undefined;
  private readonly sequencer: Sequencer;
  private readonly publisher: CheckpointPublisher;
  private readonly hasher: EngineBatchHasher;
  private readonly hashPairs: PairHasher;
  private readonly logger: LogEngineLogger;
  private readonly nodeName: string;
  private readonly seed: Uint8Array;
  private readonly retention: number;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly storage: LogStorage,
    config: LogEngineConfig,
  ) {
    if (typeof config.nodeName !== 'string' || !/^[^\s/+\p{C}]{1,253}$/u.test(config.nodeName)) {
      throw new RemembrancerError('CONFIG_INVALID', 'node name must be 1-253 characters without spaces, "/" or "+"');
    }
    if (!(config.logSeed instanceof Uint8Array) || config.logSeed.length !== 32) {
      throw new RemembrancerError('CONFIG_INVALID', 'log seed must be 32 bytes');
    }
    this.nodeName = config.nodeName;
    this.seed = config.logSeed.slice();
    this.logger = config.logger ?? silentLogger;
    this.hasher = config.batchHasher ?? loadBatchHasher();
    const packed = this.hasher.nodeHashesPacked;
    this.hashPairs = packed === undefined ? jsPairHasher : (children) => packed.call(this.hasher, children);
    this.retention = positiveInt('checkpointRetention', config.checkpointRetention, 1000);
    const intervalMs = config.checkpointIntervalMs ?? 1000;
    if (!Number.isFinite(intervalMs) || intervalMs < 0) {
      throw new RemembrancerError('CONFIG_INVALID', 'checkpointIntervalMs must be >= 0');
    }
    const batchMaxAgeMs = config.batchMaxAgeMs ?? 5;
    if (!Number.isFinite(batchMaxAgeMs) || batchMaxAgeMs < 0) {
      throw new RemembrancerError('CONFIG_INVALID', 'batchMaxAgeMs must be >= 0');
    }
    this.mirror = config.tileMirrorDir ? new TileMirror(config.tileMirrorDir, this.logger) : undefined;
    this.tiles = new TileStore(storage, positiveInt('tileCacheTiles', config.tileCacheTiles, 2048, 16), this.mirror);
    this.sequencer = new Sequencer(
      {
        batchMaxEntries: positiveInt('batchMaxEntries', config.batchMaxEntries, 4096),
        batchMaxAgeMs,
        queueMaxEntries: positiveInt('queueMaxEntries', config.queueMaxEntries, 65536),
        queueMaxBytes: positiveInt('queueMaxBytes', config.queueMaxBytes, 64 * 1024 * 1024),
      },
      (groups) =>
        this.commitGroups(groups).catch((error: unknown) => {
          // Callers (the HTTP layer) branch on codes: anything untyped is an internal fault.
          throw isRemembrancerError(error) ? error : new RemembrancerError('INTERNAL', `append failed: ${String(error)}`, { cause: error });
        }),
      (error, entries) => this.logger.error({ err: error, entries }, 'group commit failed; its appends were rejected'),
    );
    this.publisher = new CheckpointPublisher(storage, this.retention, this.logger);

    try {
      for (const ns of storage.loadNamespaces()) this.adopt(ns);
    } catch (error) {
      this.mirror?.close();
      throw error;
    }
    this.publisher.start(intervalMs, () => this.byKey.values());
    if (this.mirror !== undefined) {
      this.extendMirror(this.byKey.values(), 0);
      const syncMs = positiveInt('tileMirrorSyncMs', config.tileMirrorSyncMs, 1000);
      this.mirrorSyncTimer = setInterval(() => this.mirror!.sync(), syncMs);
      this.mirrorSyncTimer.unref();
    }
    this.logger.info({ namespaces: this.byId.size }, 'log engine open');
  }

  // ---- namespaces ----

  createNamespace(id: string, policy: Record<string, unknown> = {}): NamespaceRecord {
    this.assertRunning();
    assertNamespaceId(id);
    if (policy === null || typeof policy !== 'object' || Array.isArray(policy)) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'namespace policy must be a JSON object');
    }
    if (this.byId.has(id)) throw new RemembrancerError('NAMESPACE_EXISTS', `namespace ${id} already exists`);
    const origin = `${this.nodeName}/${id}`;
    const signer = new NoteSigner(origin, this.seed);
    let policyText: string;
    try {
      policyText = JSON.stringify(policy);
    } catch (cause) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'namespace policy is not JSON-serialisable', { cause });
    }
    const publishedAt = new Date().toISOString();
    const note = signCheckpoint({ origin, size: 0, root: EMPTY_ROOT }, signer);
    const stored = this.storage.createNamespace(
      { id, origin, logVkey: signer.vkey, createdAt: publishedAt, policy: policyText },
      { size: 0, root: EMPTY_ROOT, note, publishedAt },
    );
    const st = this.install(stored, signer, new CompactRange(), 0);
    st.latest = { size: 0, root: EMPTY_ROOT, note, publishedAt };
    this.logger.info({ namespace: id, origin }, 'namespace created');
    return copyRecord(st.record);
  }

  getNamespace(id: string): NamespaceRecord | undefined {
    const st = this.byId.get(id);
    return st === undefined ? undefined : copyRecord(st.record);
  }

  listNamespaces(): NamespaceRecord[] {
    return [...this.byKey.values()].map((st) => copyRecord(st.record));
  }

  // ---- writes ----

  append(namespace: string, entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    try {
      if (this.shuttingDown) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
      const st = this.state(namespace);
      if (!Array.isArray(entries)) throw new RemembrancerError('INVALID_ARGUMENT', 'entries must be an array');
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        if (!(e instanceof Uint8Array)) throw new RemembrancerError('INVALID_ARGUMENT', `entry ${i} is not bytes`);
        if (e.length > MAX_ENTRY_BYTES) {
          throw new RemembrancerError('ENTRY_TOO_LARGE', `entry ${i} is ${e.length} bytes; at most ${MAX_ENTRY_BYTES} are allowed`);
        }
      }
      if (entries.length === 0) return Promise.resolve([]);
      return this.sequencer.enqueue(st.key, entries);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** One group commit: leaf hashes in bulk, integration into copies, one storage transaction. */
  private async commitGroups(groups: readonly NamespaceGroup[]): Promise<AppendResult[][]> {
    const all: Uint8Array[] = [];
    for (const g of groups) for (const e of g.entries) all.push(e);
    const hashes = this.hasher.leafHashes(all);
    if (hashes.length !== all.length) {
      throw new RemembrancerError('INTERNAL', `batch hasher returned ${hashes.length} hashes for ${all.length} entries`);
    }
    const staged: { st: NamespaceState; integration: Integration }[] = [];
    let offset = 0;
    for (const g of groups) {
      const st = this.byKey.get(g.ns)!;
      const lh = hashes.slice(offset, offset + g.entries.length);
      offset += g.entries.length;
      staged.push({ st, integration: integrate(st.key, st.range, lh, this.tiles, this.hashPairs) });
    }
    await this.storage.commitBatch(
      staged.map(({ st, integration }, i) => ({
        namespace: st.key,
        previousSize: st.range.size,
        entries: groups[i]!.entries,
        tiles: integration.tiles,
        tree: { size: integration.range.size, compactRange: [...integration.range.hashes] },
      })),
    );
    // Durable: adopt the new trees. Nothing above this line changed engine state.
    const results = staged.map(({ st, integration }, g) => {
      let bytes = 0;
      for (const e of groups[g]!.entries) bytes += e.length;
      this.storedBytesByKey.set(st.key, this.storedBytesByKey.get(st.key)! + bytes);
      const first = st.range.size;
      st.range = integration.range;
      st.root = undefined;
      this.tiles.committed(st.key, integration.tiles);
      const leaves = integration.leaves;
      const out = new Array<AppendResult>(leaves.length / 32);
      for (let i = 0; i < out.length; i++) out[i] = { index: first + i, leafHash: leaves.subarray(i * 32, i * 32 + 32) };
      return out;
    });
    this.extendMirror(
      staged.map((s) => s.st),
      64,
    );
    return results;
  }

  /** Calls fn(level, full tiles at that level) for every tile level that has a full tile. */
  private forEachFullLevel(st: NamespaceState, fn: (level: number, fullTiles: number) => void): void {
    for (let level = 0; leavesPerTileHash(level + 1) <= st.range.size; level++) {
      fn(level, Math.floor(st.range.size / leavesPerTileHash(level + 1)));
    }
  }

  /**
   * Copies newly completed full tiles into the mirror, at most `budget` per level now (0: none
   * now); any backlog (first open of a large log, rebuilt mirror) continues in the background.
   */
  private extendMirror(states: Iterable<NamespaceState>, budget: number): void {
    const mirror = this.mirror;
    if (mirror === undefined) return;
    let backlog = false;
    for (const st of states) {
      this.forEachFullLevel(st, (level, full) => {
        if (mirror.written(st.key, level) >= full) return;
        if (budget === 0) {
          backlog = true;
          return;
        }
        const source = (i: number) => this.tiles.peek(st.key, level, i) ?? this.storage.readTile(st.key, level, i);
        if (mirror.extend(st.key, level, full, budget, source) > 0) backlog = true;
      });
    }
    if (backlog && this.mirrorCatchUp === undefined && !this.shuttingDown) {
      this.mirrorCatchUp = setTimeout(() => {
        this.mirrorCatchUp = undefined;
        if (!this.shuttingDown) this.extendMirror(this.byKey.values(), 256);
      }, 5);
      this.mirrorCatchUp.unref();
    }
  }

  // ---- reads ----

  sequencedSize(namespace: string): number {
    return this.state(namespace).range.size;
  }

  storedBytes(namespace: string): number {
    return this.storedBytesByKey.get(this.state(namespace).key)!;
  }

  integratedSize(namespace: string): number {
    return this.state(namespace).range.size;
  }

  getEntry(namespace: string, index: number): Uint8Array | undefined {
    const st = this.state(namespace);
    if (!Number.isSafeInteger(index) || index < 0 || index >= st.range.size) return undefined;
    const e = this.storage.readEntry(st.key, index);
    return e === undefined ? undefined : plainBytes(e);
  }

  /** Entries [start, min(end, size)), in order. */
  getEntries(namespace: string, start: number, end: number): Uint8Array[] {
    const st = this.state(namespace);
    checkIndex('start', start);
    checkIndex('end', end);
    if (start > end) throw new RemembrancerError('INVALID_RANGE', `range [${start}, ${end}) is reversed`);
    const stop = Math.min(end, st.range.size);
    if (start >= stop) return [];
    const out = this.storage.readEntries(st.key, start, stop).map(plainBytes);
    if (out.length !== stop - start) {
      throw new RemembrancerError('STORAGE_FAILURE', `entries [${start}, ${stop}) of ${namespace} are incomplete in storage`);
    }
    return out;
  }

  rootAt(namespace: string, size: number): Uint8Array {
    const st = this.state(namespace);
    this.checkSize(st, size);
    if (size === st.range.size) return (st.root ??= st.range.root()).slice();
    return rootFromEdge(this.edge(st, size)).slice();
  }

  inclusionProof(namespace: string, index: number, size: number): Uint8Array[] {
    const st = this.state(namespace);
    this.checkSize(st, size);
    checkIndex('index', index);
    if (index >= size) throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${size}`);
    return inclusionProofFromTiles(this.tiles, st.key, index, size, (s) => this.edge(st, s));
  }

  consistencyProof(namespace: string, from: number, to: number): Uint8Array[] {
    const st = this.state(namespace);
    checkIndex('from', from);
    this.checkSize(st, to);
    if (from > to) throw new RemembrancerError('INVALID_RANGE', `consistency proof from size ${from} to smaller size ${to}`);
    return hashPlan(consistencyProofPlan(from, to), this.tiles.reader(st.key), () => this.edge(st, to));
  }

  leafHashAt(namespace: string, index: number): Uint8Array {
    const st = this.state(namespace);
    checkIndex('index', index);
    if (index >= st.range.size) {
      throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below tree size ${st.range.size}`);
    }
    // One hash: read through the mirror if the tile is not in memory, rather than caching 16 KiB.
    const h = this.tiles.reader(st.key)(0, index);
    if (h === undefined) throw missingHash(0, index);
    return h.slice();
  }

  readTile(namespace: string, level: number, index: number, width: number): Uint8Array | undefined {
    const st = this.state(namespace);
    this.checkTileCoordinates(level, index, width);
    const t = this.tiles.tile(st.key, level, index);
    if (t === undefined || t.width < width) return undefined;
    return c2spTileBytes(t.data, width).slice();
  }

  readEntryBundle(namespace: string, index: number, width: number): Uint8Array | undefined {
    const st = this.state(namespace);
    this.checkTileCoordinates(0, index, width);
    const start = index * TILE_WIDTH;
    if (start + width > st.range.size) return undefined;
    const entries = this.storage.readEntries(st.key, start, start + width);
    if (entries.length !== width) {
      throw new RemembrancerError('STORAGE_FAILURE', `entry bundle ${index} of ${namespace} is incomplete in storage`);
    }
    let total = 0;
    for (const e of entries) total += 2 + e.length;
    const out = new Uint8Array(total);
    let o = 0;
    for (const e of entries) {
      // https://c2sp.org/tlog-tiles#log-entries: big-endian uint16 length, then the entry.
      out[o] = e.length >>> 8;
      out[o + 1] = e.length & 0xff;
      out.set(e, o + 2);
      o += 2 + e.length;
    }
    return out;
  }

  // ---- checkpoints ----

  latestCheckpoint(namespace: string): PublishedCheckpoint | undefined {
    const cp = this.state(namespace).latest;
    return cp === undefined ? undefined : { ...cp, root: cp.root.slice() };
  }

  checkpointHistory(namespace: string, limit?: number): PublishedCheckpoint[] {
    const st = this.state(namespace);
    const n = limit ?? this.retention;
    if (!Number.isSafeInteger(n) || n < 1) throw new RemembrancerError('INVALID_ARGUMENT', 'limit must be a positive integer');
    return this.storage.checkpointHistory(st.key, n).map((c) => ({ ...c, root: plainBytes(c.root) }));
  }

  publishCheckpoint(namespace: string): PublishedCheckpoint | undefined {
    const st = this.state(namespace);
    if (this.closing === undefined) this.publisher.publish(st);
    return this.latestCheckpoint(namespace);
  }

  // ---- lifecycle ----

  stats(): LogEngineStats {
    return {
      ...this.sequencer.stats(),
      namespaces: this.byKey.size,
      checkpointsPublished: this.publisher.publishedCount,
      tileCache: this.tiles.stats(),
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      this.publisher.stop();
      await this.sequencer.drain();
      // A last checkpoint, so what was acknowledged is also covered by a signed tree head.
      this.publisher.publishAll(this.byKey.values());
      if (this.mirrorSyncTimer !== undefined) clearInterval(this.mirrorSyncTimer);
      if (this.mirrorCatchUp !== undefined) clearTimeout(this.mirrorCatchUp);
      this.mirror?.close();
      this.storage.close();
      this.logger.info({}, 'log engine closed');
    })();
    return this.closing;
  }

  // ---- internals ----

  private state(namespace: string): NamespaceState {
    // Only valid ids are ever installed, so a hit needs no syntax check (a miss gets none either).
    const st = typeof namespace === 'string' ? this.byId.get(namespace) : undefined;
    if (st === undefined) {
      throw new RemembrancerError('NAMESPACE_NOT_FOUND', `no namespace ${JSON.stringify(String(namespace).slice(0, 140))}`);
    }
    return st;
  }

  private assertRunning(): void {
    if (this.shuttingDown) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
  }

  private checkSize(st: NamespaceState, size: number): void {
    checkIndex('size', size);
    if (size > st.range.size) {
      throw new RemembrancerError('SIZE_OUT_OF_RANGE', `size ${size} exceeds the integrated size ${st.range.size}`);
    }
  }

  private checkTileCoordinates(level: number, index: number, width: number): void {
    if (!Number.isSafeInteger(level) || level < 0 || level > 63) {
      throw new RemembrancerError('INVALID_ARGUMENT', `tile level must be 0..63, got ${String(level)}`);
    }
    checkIndex('tile index', index);
    if (!Number.isSafeInteger(width) || width < 1 || width > TILE_WIDTH) {
      throw new RemembrancerError('INVALID_ARGUMENT', `tile width must be 1..${TILE_WIDTH}, got ${String(width)}`);
    }
  }

  /** The right-edge table at `size`, from a small per-namespace cache. */
  private edge(st: NamespaceState, size: number): EdgeFolds {
    let e = st.edges.get(size);
    if (e === undefined) {
      e = computeEdgeFolds(size, size === st.range.size ? st.range.hashes : undefined, this.tiles.reader(st.key));
      st.edges.set(size, e);
      // Proofs cluster on a few sizes: the current tree and the latest checkpoints.
      if (st.edges.size > 8) st.edges.delete(st.edges.keys().next().value as number);
    }
    return e;
  }

  private install(stored: StoredNamespace, signer: NoteSigner, range: CompactRange, storedBytes: number): NamespaceState {
    let policy: Record<string, unknown>;
    try {
      policy = JSON.parse(stored.policy) as Record<string, unknown>;
    } catch (cause) {
      throw new RemembrancerError('STORAGE_FAILURE', `namespace ${stored.id} has an unreadable policy`, { cause });
    }
    const st: NamespaceState = {
      key: stored.key,
      record: { id: stored.id, origin: stored.origin, logVkey: stored.logVkey, createdAt: stored.createdAt, policy },
      signer,
      range,
      root: undefined,
      latest: undefined,
      edges: new Map(),
    };
    this.byId.set(stored.id, st);
    this.byKey.set(stored.key, st);
    this.storedBytesByKey.set(stored.key, storedBytes);
    return st;
  }

  /**
   * Loads a stored namespace and checks, in O(log n) reads, that its tree state, entries, tiles
   * and latest checkpoint agree. A disagreement means the database was damaged or edited: refuse
   * to serve rather than sign checkpoints over a tree that may not match the entries.
   */
  private adopt(stored: StoredNamespace): void {
    const fail = (why: string): never => {
      const msg = `log database is inconsistent for namespace ${stored.id}: ${why}; refusing to open (restore from a backup)`;
      this.logger.error({ namespace: stored.id }, msg);
      throw new RemembrancerError('STORAGE_FAILURE', msg);
    };
    const signer = new NoteSigner(stored.origin, this.seed);
    if (stored.origin !== `${this.nodeName}/${stored.id}`) fail(`origin ${stored.origin} does not belong to node ${this.nodeName}`);
    if (signer.vkey !== stored.logVkey) fail('stored log vkey is not derived from this node\'s log key (wrong key file?)');
    const tree = this.storage.loadTreeState(stored.key);
    const count = this.storage.entryCount(stored.key);
    if (count !== tree.size) fail(`tree state covers ${tree.size} entries but ${count} are stored`);
    let range: CompactRange;
    try {
      range = new CompactRange(tree.size, tree.compactRange);
    } catch (e) {
      return fail(`stored compact range is malformed (${(e as Error).message})`);
    }
    const bytes = this.storage.entryBytes(stored.key);
    // Every entry holds at most MAX_ENTRY_BYTES: a total beyond that is damage, not data.
    if (!Number.isSafeInteger(bytes) || bytes < 0 || bytes > tree.size * MAX_ENTRY_BYTES) {
      fail(`stored entry byte total ${bytes} is impossible for ${tree.size} entries`);
    }
    const st = this.install(stored, signer, range, bytes);
    // Before any tile is read through it: the mirror must agree with this database.
    this.forEachFullLevel(st, (level, full) =>
      this.mirror?.validate(st.key, level, full, (i) => this.storage.readTile(st.key, level, i)),
    );
    const ids = rangeDecomposition(0, tree.size);
    ids.forEach((id, i) => {
      const h = this.tiles.hash(st.key, id.level, id.index);
      if (h === undefined || !bytesEqual(h, range.hashes[i]!)) fail(`tiles disagree with the tree state at subtree ${id.level}/${id.index}`);
    });
    if (tree.size > 0) {
      const last = this.storage.readEntry(st.key, tree.size - 1);
      const h = this.tiles.hash(st.key, 0, tree.size - 1);
      if (last === undefined || h === undefined || !bytesEqual(leafHash(last), h)) fail('the last entry does not match its leaf hash');
    }
    const cp = this.storage.latestCheckpoint(st.key);
    if (cp !== undefined) {
      if (cp.size > tree.size) fail(`latest checkpoint has size ${cp.size} beyond the tree size ${tree.size}`);
      if (!bytesEqual(rootFromEdge(this.edge(st, cp.size)), cp.root)) fail(`latest checkpoint (size ${cp.size}) is not a state of this tree`);
      st.latest = { ...cp, root: plainBytes(cp.root) };
    }
  }
}

/** The engine over a storage the caller opened (any backend; tests inject faults this way). */
export function createLogEngine(storage: LogStorage, config: LogEngineConfig): ObservableLogEngine {
  return new TiledLogEngine(storage, config);
}
