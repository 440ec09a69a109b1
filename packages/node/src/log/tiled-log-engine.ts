import { RemembrancerError } from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import type { AppendResult, LogEngine, NamespaceRecord, PublishedCheckpoint } from './log-engine.js';
import { resolveLogEngineConfig, type LogEngineConfig, type ResolvedLogEngineConfig } from './log-engine-config.js';
import { LogReader } from './log-reader.js';
import { NamespaceRegistry } from './namespace-registry.js';
import type { SequencerStats } from './sequencer.js';
import { adoptStoredNamespace } from './startup-check.js';
import { backfillLeafIndex } from './leaf-index-backfill.js';
import { TileMirror } from './tile-mirror.js';
import { TileMirrorScheduler } from './tile-mirror-scheduler.js';
import { TileStore, type TileCacheStats } from './tile-store.js';
import { WritePath } from './write-path.js';

export interface LogEngineStats extends SequencerStats {
  namespaces: number;
  checkpointsPublished: number;
  tileCache: TileCacheStats;
}

/** The engine as the node uses it: the LogEngine contract plus counters for metrics and tests. */
export interface ObservableLogEngine extends LogEngine {
  stats(): LogEngineStats;
}

/**
 * The log engine over any LogStorage, composed of: the namespace registry, the write path
 * (sequencer and integrator: every committed entry is integrated in the same transaction), the
 * read path (tile-based proofs, tiles, entry bundles), the checkpoint publisher and the tile
 * mirror with its timers. Opened with TiledLogEngine.open(), which checks every stored namespace
 * first (startup-check.ts) and only then starts the timers.
 */
export class TiledLogEngine implements ObservableLogEngine {
  private readonly config: ResolvedLogEngineConfig;
  private readonly registry: NamespaceRegistry;
  private readonly tiles: TileStore;
  private readonly mirror: TileMirrorScheduler | undefined;
  private readonly writer: WritePath;
  private readonly reader: LogReader;
  private readonly publisher: CheckpointPublisher;
  private shuttingDown = false;
  private closing: Promise<void> | undefined;

  /** Loads and checks the stored namespaces, back-fills the leaf index, then starts the timers. */
  static async open(storage: LogStorage, config: LogEngineConfig): Promise<TiledLogEngine> {
    const engine = new TiledLogEngine(storage, config);
    await engine.load();
    return engine;
  }

  /** Wires the parts without reading storage (a constructor cannot await): see open(). */
  private constructor(
    private readonly storage: LogStorage,
    config: LogEngineConfig,
  ) {
    const c = (this.config = resolveLogEngineConfig(config));
    this.registry = new NamespaceRegistry(storage, c.nodeName, c.logSeed, c.logger);
    const mirror = c.tileMirrorDir === undefined ? undefined : new TileMirror(c.tileMirrorDir, c.logger);
    this.tiles = new TileStore(storage, c.tileCacheTiles, mirror);
    this.mirror =
      mirror && new TileMirrorScheduler(mirror, this.tiles, storage, () => this.registry.states(), c.logger);
    this.reader = new LogReader(storage, this.tiles);
    this.writer = new WritePath(this.registry, storage, this.tiles, c, (states) => this.mirror?.committed(states));
    this.publisher = new CheckpointPublisher(storage, c.checkpointRetention, c.logger);
  }

  private async load(): Promise<void> {
    const c = this.config;
    try {
      const ctx = {
        storage: this.storage,
        registry: this.registry,
        tiles: this.tiles,
        reader: this.reader,
        mirror: this.mirror,
        nodeName: c.nodeName,
        logger: c.logger,
      };
      for (const ns of await this.storage.loadNamespaces()) await adoptStoredNamespace(ns, ctx);
      if (c.leafIndex) for (const st of this.registry.states()) await backfillLeafIndex(st, this.storage, c.logger);
    } catch (error) {
      // Nothing was scheduled yet: closing the mirror only releases its files.
      await this.mirror?.close();
      throw error;
    }
    this.publisher.start(c.checkpointIntervalMs, () => this.registry.states());
    this.mirror?.start(c.tileMirrorSyncMs);
    c.logger.info({ namespaces: this.registry.size }, 'log engine open');
  }

  // ---- namespaces ----

  async createNamespace(id: string, policy: Record<string, unknown> = {}): Promise<NamespaceRecord> {
    if (this.shuttingDown) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
    return this.registry.create(id, policy);
  }

  getNamespace(id: string): NamespaceRecord | undefined {
    return this.registry.record(id);
  }

  listNamespaces(): NamespaceRecord[] {
    return this.registry.records();
  }

  // ---- writes ----

  append(namespace: string, entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    return this.writer.append(namespace, entries);
  }

  // ---- reads ----

  sequencedSize(namespace: string): number {
    return this.registry.state(namespace).range.size;
  }

  storedBytes(namespace: string): number {
    return this.registry.state(namespace).storedBytes;
  }

  integratedSize(namespace: string): number {
    return this.registry.state(namespace).range.size;
  }

  async getEntry(namespace: string, index: number): Promise<Uint8Array | undefined> {
    return this.reader.getEntry(this.registry.state(namespace), index);
  }

  async getEntries(namespace: string, start: number, end: number): Promise<Uint8Array[]> {
    return this.reader.getEntries(this.registry.state(namespace), start, end);
  }

  rootAt(namespace: string, size: number): Promise<Uint8Array> {
    return settled(() => this.reader.rootAt(this.registry.state(namespace), size));
  }

  inclusionProof(namespace: string, index: number, size: number): Promise<Uint8Array[]> {
    return settled(() => this.reader.inclusionProof(this.registry.state(namespace), index, size));
  }

  consistencyProof(namespace: string, from: number, to: number): Promise<Uint8Array[]> {
    return settled(() => this.reader.consistencyProof(this.registry.state(namespace), from, to));
  }

  leafHashAt(namespace: string, index: number): Promise<Uint8Array> {
    return settled(() => this.reader.leafHashAt(this.registry.state(namespace), index));
  }

  async findLeaf(namespace: string, leafHash: Uint8Array): Promise<number | undefined> {
    const st = this.registry.state(namespace);
    if (!this.config.leafIndex) {
      throw new RemembrancerError('NOT_FOUND', 'this node keeps no leaf-hash index (log.leafIndex is false)');
    }
    return this.reader.findLeaf(st, leafHash);
  }

  async readTile(namespace: string, level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    return this.reader.readTile(this.registry.state(namespace), level, index, width);
  }

  async readEntryBundle(namespace: string, index: number, width: number): Promise<Uint8Array | undefined> {
    return this.reader.readEntryBundle(this.registry.state(namespace), index, width);
  }

  // ---- checkpoints ----

  latestCheckpoint(namespace: string): PublishedCheckpoint | undefined {
    const cp = this.registry.state(namespace).latest;
    return cp === undefined ? undefined : { ...cp, root: cp.root.slice() };
  }

  async checkpointHistory(namespace: string, limit?: number): Promise<PublishedCheckpoint[]> {
    return this.reader.checkpointHistory(this.registry.state(namespace), limit ?? this.config.checkpointRetention);
  }

  async publishCheckpoint(namespace: string): Promise<PublishedCheckpoint | undefined> {
    const st = this.registry.state(namespace);
    if (this.closing === undefined) await this.publisher.publish(st);
    return this.latestCheckpoint(namespace);
  }

  // ---- lifecycle ----

  stats(): LogEngineStats {
    return {
      ...this.writer.stats(),
      namespaces: this.registry.size,
      checkpointsPublished: this.publisher.publishedCount,
      tileCache: this.tiles.stats(),
    };
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.shuttingDown = true;
      this.publisher.stop();
      this.mirror?.stopCatchUp();
      await this.writer.drain();
      // A last checkpoint, so what was acknowledged is also covered by a signed tree head (after
      // any publication still storing: they run one at a time).
      await this.publisher.publishAll(() => this.registry.states());
      await this.mirror?.close();
      await this.storage.close();
      this.config.logger.info({}, 'log engine closed');
    })();
    return this.closing;
  }
}

/**
 * The promise of a read whose checks throw synchronously, rejecting instead: the proof reads are
 * not async functions (see LogReader), yet callers must only ever see rejections.
 */
function settled<T>(read: () => Promise<T>): Promise<T> {
  try {
    return read();
  } catch (error) {
    return Promise.reject(error);
  }
}

/** The engine over a storage the caller opened (any backend; tests inject faults this way). */
export function createLogEngine(storage: LogStorage, config: LogEngineConfig): Promise<ObservableLogEngine> {
  return TiledLogEngine.open(storage, config);
}
