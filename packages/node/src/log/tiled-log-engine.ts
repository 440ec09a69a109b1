import { RemembrancerError } from '@vaultmesh/core';
import type { LogStorage } from '../storage/log-storage.js';
import { CheckpointPublisher } from './checkpoint-publisher.js';
import type { AppendResult, LogEngine, NamespaceRecord, PublishedCheckpoint } from './log-engine.js';
import { resolveLogEngineConfig, type LogEngineConfig, type ResolvedLogEngineConfig } from './log-engine-config.js';
import { LogReader } from './log-reader.js';
import { NamespaceRegistry } from './namespace-registry.js';
import type { NamespaceState } from './namespace-state.js';
import type { SequencerStats } from './sequencer.js';
import { adoptStoredNamespace } from './startup-check.js';
import { backfillLeafIndex } from './leaf-index-backfill.js';
import { TileMirror } from './tile-mirror.js';
import { TileMirrorScheduler } from './tile-mirror-scheduler.js';
import { TileStore, type TileCacheStats } from './tile-store.js';
import { WritePath } from './write-path.js';
import { isSharedLogStorage, type SharedLogStorage } from '../storage/shared-log-storage.js';
import { SharedIntegrator } from './shared-integrator.js';
import { SharedWritePath } from './shared-write-path.js';
import { StateFollower } from './state-follower.js';

/** How long a front end that does not hold the lease waits for the holder to create a namespace. */
const NAMESPACE_CREATION_WAIT_MS = 10_000;

/** The parts of an engine whose front ends share one database (issue 14). */
interface SharedParts {
  storage: SharedLogStorage;
  follower: StateFollower;
  integrator: SharedIntegrator;
}

export interface LogEngineStats extends SequencerStats {
  namespaces: number;
  checkpointsPublished: number;
  tileCache: TileCacheStats;
}

/** The engine as the node uses it: the LogEngine contract plus counters for metrics and tests. */
export interface ObservableLogEngine extends LogEngine {
  stats(): LogEngineStats;
  /** Whether this engine integrates and signs (always, unless several front ends share its storage). */
  readonly leading: boolean;
  /** Several front ends: this one holds the lease from now on (no-op otherwise). */
  lead(): Promise<void>;
  /** Several front ends: this one no longer holds the lease; integration and signing stop at once. */
  follow(): void;
  /** Several front ends, closing while holding the lease: a last integration and checkpoint, then follow(). */
  stepDown(): Promise<void>;
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
  private readonly writer: WritePath | SharedWritePath;
  /** Set when the storage is shared by several front ends: only the lease holder integrates and signs. */
  private readonly shared: SharedParts | undefined;
  private readonly reader: LogReader;
  private readonly publisher: CheckpointPublisher;
  /** onCheckpoint listeners: told the namespace id of each newer latest checkpoint. */
  private readonly checkpointListeners = new Set<(namespace: string) => void>();
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
    const sharedStorage = isSharedLogStorage(storage) ? storage : undefined;
    // With several front ends the flat-file mirror is off (it mirrors what this process commits),
    // and partial tiles are cached only as the state they belong to is adopted (tile-store.ts).
    const mirror =
      c.tileMirrorDir === undefined || sharedStorage !== undefined
        ? undefined
        : new TileMirror(c.tileMirrorDir, c.logger);
    this.tiles = new TileStore(storage, c.tileCacheTiles, mirror, sharedStorage === undefined);
    this.mirror =
      mirror && new TileMirrorScheduler(mirror, this.tiles, storage, () => this.registry.states(), c.logger);
    this.reader = new LogReader(storage, this.tiles);
    this.publisher = new CheckpointPublisher(storage, c.checkpointRetention, c.logger, (st) =>
      this.checkpointChanged(st),
    );
    if (sharedStorage === undefined) {
      this.shared = undefined;
      this.writer = new WritePath(this.registry, storage, this.tiles, c, (states) => this.mirror?.committed(states));
    } else {
      const follower = new StateFollower(
        this.registry,
        sharedStorage,
        this.tiles,
        c.logger,
        (stored) => adoptStoredNamespace(stored, this.startupContext()),
        () => integrator.wake(),
        (st) => this.checkpointChanged(st),
      );
      const integrator = new SharedIntegrator(this.registry, sharedStorage, this.tiles, c, follower);
      this.shared = { storage: sharedStorage, follower, integrator };
      this.writer = new SharedWritePath(
        this.registry,
        sharedStorage,
        c,
        follower,
        () => integrator.wake(),
        c.integrationWaitMs,
      );
    }
  }

  private startupContext() {
    return {
      storage: this.storage,
      registry: this.registry,
      tiles: this.tiles,
      reader: this.reader,
      mirror: this.mirror,
      nodeName: this.config.nodeName,
      logger: this.config.logger,
    };
  }

  private async load(): Promise<void> {
    const c = this.config;
    const shared = this.shared;
    try {
      const ctx = this.startupContext();
      if (shared === undefined) {
        for (const ns of await this.storage.loadNamespaces()) await adoptStoredNamespace(ns, ctx);
        if (c.leafIndex) for (const st of this.registry.states()) await backfillLeafIndex(st, this.storage, c.logger);
      } else {
        // Entries past a tree are sequenced, waiting for the lease holder: the check counts them.
        const sequenced = new Map((await shared.storage.sequencingStates()).map((s) => [s.namespace, s.sequenced]));
        for (const ns of await this.storage.loadNamespaces())
          await adoptStoredNamespace(ns, ctx, sequenced.get(ns.key) ?? 0);
        await shared.follower.start();
      }
    } catch (error) {
      // Nothing was scheduled yet: closing the mirror only releases its files.
      await this.mirror?.close();
      throw error;
    }
    // With several front ends, integration and signing wait for lead() (the lease).
    if (shared === undefined) this.publisher.start(c.checkpointIntervalMs, () => this.registry.states());
    this.mirror?.start(c.tileMirrorSyncMs);
    c.logger.info({ namespaces: this.registry.size, shared: shared !== undefined }, 'log engine open');
  }

  /** Whether this engine integrates and signs: always with one writer; with several, while it leads. */
  get leading(): boolean {
    return this.shared === undefined || this.shared.integrator.leading;
  }

  /**
   * With several front ends: this one got the lease. Catches up with what the previous holder
   * stored (trees, checkpoints), brings the leaf-hash index up to date, then integrates what
   * every front end sequences and signs checkpoints until follow().
   */
  async lead(): Promise<void> {
    const shared = this.shared;
    if (shared === undefined || shared.integrator.leading || this.shuttingDown) return;
    const c = this.config;
    await shared.follower.resync();
    if (c.leafIndex) for (const st of this.registry.states()) await backfillLeafIndex(st, this.storage, c.logger);
    shared.integrator.start();
    // What the previous holder left sequenced is integrated and signed now, not a tick later:
    // a failover's first checkpoint is part of the failover.
    await shared.integrator.settled();
    await this.publisher.publishAll(() => this.registry.states());
    this.publisher.start(c.checkpointIntervalMs, () => this.registry.states());
    c.logger.info({}, 'leading: integrating and signing');
  }

  /**
   * With several front ends, before giving the lease up (a clean shutdown): integrates what is
   * sequenced and signs a last checkpoint of it, then follows.
   */
  async stepDown(): Promise<void> {
    const shared = this.shared;
    if (shared === undefined || !shared.integrator.leading) return;
    shared.integrator.wake();
    await shared.integrator.settled();
    await this.publisher.publishAll(() => this.registry.states());
    this.follow();
  }

  /** With several front ends: the lease is gone (or given up). Integration and signing stop at once. */
  follow(): void {
    const shared = this.shared;
    if (shared === undefined || !shared.integrator.leading) return;
    shared.integrator.stop();
    this.publisher.stop();
    this.config.logger.info({}, 'following: another front end integrates and signs');
  }

  // ---- namespaces ----

  async createNamespace(id: string, policy: Record<string, unknown> = {}): Promise<NamespaceRecord> {
    if (this.shuttingDown) throw new RemembrancerError('SHUTTING_DOWN', 'log engine is shutting down');
    if (!this.leading) return this.createdByHolder(id);
    return this.registry.create(id, policy);
  }

  /**
   * A front end that does not lead does not create namespaces: the holder does (it runs the
   * governance that decides them). This one waits to see it appear, then serves it.
   */
  private async createdByHolder(id: string): Promise<NamespaceRecord> {
    const deadline = Date.now() + NAMESPACE_CREATION_WAIT_MS;
    for (;;) {
      await this.shared!.follower.loadNamespaces();
      const r = this.registry.record(id);
      if (r !== undefined) return r;
      if (Date.now() > deadline || this.shuttingDown)
        throw new RemembrancerError(
          'LEASE_LOST',
          `namespace ${id} is created by the lease holder, and it has not been`,
        );
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
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
    const st = this.registry.state(namespace);
    return Math.max(st.range.size, st.sequenced ?? 0);
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

  onCheckpoint(listener: (namespace: string) => void): () => void {
    // A wrapper per subscription, so the same function subscribed twice unsubscribes once each.
    const entry = (namespace: string) => listener(namespace);
    this.checkpointListeners.add(entry);
    return () => this.checkpointListeners.delete(entry);
  }

  private checkpointChanged(st: NamespaceState): void {
    for (const listener of this.checkpointListeners) {
      try {
        listener(st.record.id);
      } catch (error) {
        this.config.logger.error({ err: error }, 'checkpoint listener failed');
      }
    }
  }

  requestCheckpoint(namespace: string): void {
    if (this.closing !== undefined || !this.leading) return;
    this.publisher.request(this.registry.state(namespace), this.config.minCheckpointIntervalMs);
  }

  async publishCheckpoint(namespace: string): Promise<PublishedCheckpoint | undefined> {
    const st = this.registry.state(namespace);
    if (this.closing === undefined && this.leading) await this.publisher.publish(st);
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
      const shared = this.shared;
      const leading = this.leading;
      if (shared !== undefined) {
        // Leading: integrate what was just sequenced, so the last checkpoint covers it.
        if (leading) {
          shared.integrator.wake();
          await shared.integrator.settled();
        }
        shared.integrator.stop();
        await shared.follower.stop();
      }
      // A last checkpoint, so what was acknowledged is also covered by a signed tree head (after
      // any publication still storing: they run one at a time). Only the leader signs.
      if (leading) await this.publisher.publishAll(() => this.registry.states());
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
