import { CompactRange, RemembrancerError, TILE_WIDTH } from '@vaultmesh/core';
import type { NamespaceKey, StoredNamespace, TileWrite } from '../storage/log-storage.js';
import type { LogChange, SharedLogStorage } from '../storage/shared-log-storage.js';
import type { LogEngineLogger } from './logger.js';
import type { NamespaceRegistry } from './namespace-registry.js';
import type { NamespaceState } from './namespace-state.js';
import { plainBytes } from './log-reader.js';
import type { TileStore } from './tile-store.js';

/** How often everything is re-read even without a notification (a lost one only delays this long). */
const RESYNC_MS = 1_000;

interface SizeWaiter {
  size: number;
  resolve: () => void;
}

/**
 * Keeps what a front end holds in memory in step with the shared log storage (issue 14): other
 * front ends sequence, the lease holder integrates and signs, and every front end hears of it
 * (watch) and re-reads — the tree state with the exact tiles of its right edge (installed before
 * the tree is adopted, so no proof mixes tiles of two tree sizes), the latest checkpoint, new
 * namespaces. Sizes only grow: a read that returns an older state than held changes nothing. A
 * re-read of everything runs every RESYNC_MS and after every reconnection of the watch.
 */
export class StateFollower {
  private unwatch: (() => Promise<void>) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Per namespace, the re-read running or last run: re-reads of one namespace run one at a time. */
  private readonly loading = new Map<NamespaceKey, Promise<void>>();
  private namespaces: Promise<void> = Promise.resolve();
  private readonly waiters = new Map<NamespaceKey, SizeWaiter[]>();
  private stopped = false;

  constructor(
    private readonly registry: NamespaceRegistry,
    private readonly storage: SharedLogStorage,
    private readonly tiles: TileStore,
    private readonly logger: LogEngineLogger,
    /** Checks and installs a namespace another front end created (startup-check.ts). */
    private readonly adopt: (stored: StoredNamespace) => Promise<void>,
    /** Entries were sequenced somewhere (the local integrator, if leading, wakes up). */
    private readonly onSequenced: (key: NamespaceKey) => void,
    /** A newer checkpoint (signed by the holder) was adopted as the namespace's latest. */
    private readonly onCheckpoint: (st: NamespaceState) => void = () => undefined,
  ) {}

  async start(): Promise<void> {
    // Partial tiles read through the tile store are not cached on a shared database (another front
    // end grows them): the right edge of every tree held is installed here, as on each growth, or
    // a log that does not grow would cost this front end a database read per proof.
    for (const st of this.registry.states()) await this.installRightEdge(st.key);
    this.unwatch = await this.storage.watch({
      onChange: (change, key) => this.changed(change, key),
      onResync: () => void this.resync().catch((e: unknown) => this.failed(e)),
      onError: (e) => this.logger.warn({ err: e.message }, 'log change notifications interrupted; reconnecting'),
    });
    this.timer = setInterval(() => void this.resync().catch((e: unknown) => this.failed(e)), RESYNC_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    await this.unwatch?.();
    for (const list of this.waiters.values()) for (const w of list) w.resolve();
    this.waiters.clear();
  }

  private changed(change: LogChange, key: NamespaceKey): void {
    if (change === 'namespace') void this.loadNamespaces().catch((e: unknown) => this.failed(e));
    else if (change === 'sequenced') this.onSequenced(key);
    else if (change === 'integrated') void this.refresh(key).catch((e: unknown) => this.failed(e));
    else void this.refreshCheckpoint(key).catch((e: unknown) => this.failed(e));
  }

  private failed(e: unknown): void {
    if (this.stopped && e instanceof RemembrancerError && e.code === 'SHUTTING_DOWN') return;
    this.logger.warn({ err: e instanceof Error ? e.message : String(e) }, 'following the shared log failed; retrying');
  }

  /** Re-reads everything: namespaces, every tree that grew, checkpoints behind their tree. */
  async resync(): Promise<void> {
    if (this.stopped) return;
    await this.loadNamespaces();
    for (const s of await this.storage.sequencingStates()) {
      const st = this.registry.findByKey(s.namespace);
      if (st === undefined) continue;
      st.sequenced = Math.max(st.sequenced ?? 0, s.sequenced);
      if (s.size > st.range.size) await this.refresh(s.namespace);
      if ((st.latest?.size ?? -1) < st.range.size) await this.refreshCheckpoint(s.namespace);
      if (s.sequenced > s.size) this.onSequenced(s.namespace);
    }
  }

  /** Installs namespaces created elsewhere; one pass at a time. */
  loadNamespaces(): Promise<void> {
    const run = this.namespaces.then(async () => {
      for (const stored of await this.storage.loadNamespaces())
        if (this.registry.record(stored.id) === undefined) {
          await this.adopt(stored);
          await this.installRightEdge(stored.key);
        }
    });
    this.namespaces = run.catch(() => undefined);
    return run;
  }

  /** Adopts the stored tree of `key` if it is larger than the one held. */
  refresh(key: NamespaceKey): Promise<void> {
    const run = (this.loading.get(key) ?? Promise.resolve()).then(() => this.load(key));
    this.loading.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  private async load(key: NamespaceKey): Promise<void> {
    const st = this.registry.findByKey(key);
    if (st === undefined) return;
    const tree = await this.storage.loadTreeState(key);
    if (tree.size <= st.range.size) return;
    const range = new CompactRange(tree.size, tree.compactRange);
    const edge = await this.rightEdge(key, tree.size);
    const bytes = await this.storage.entryBytes(key);
    // The integrator of this process may have gone further meanwhile: sizes never go back.
    if (tree.size <= st.range.size) return;
    this.tiles.forgetRightEdge(key, st.range.size);
    this.tiles.committed(key, edge);
    st.range = range;
    st.root = undefined;
    st.storedBytes = Math.max(st.storedBytes, bytes);
    st.sequenced = Math.max(st.sequenced ?? 0, tree.size);
    this.grew(st);
  }

  /** Installs the stored partial tiles of the tree held for `key` (in line with its re-reads). */
  installRightEdge(key: NamespaceKey): Promise<void> {
    const run = (this.loading.get(key) ?? Promise.resolve()).then(async () => {
      const st = this.registry.findByKey(key);
      if (st === undefined) return;
      this.tiles.committed(key, await this.rightEdge(key, st.range.size));
    });
    this.loading.set(
      key,
      run.catch(() => undefined),
    );
    return run;
  }

  /** The stored partial tiles of a tree of `size` (as wide as storage has them now: never narrower). */
  private async rightEdge(key: NamespaceKey, size: number): Promise<TileWrite[]> {
    const out: TileWrite[] = [];
    for (let level = 0, count = size; count > 0; level++, count = Math.floor(count / TILE_WIDTH)) {
      if (count % TILE_WIDTH === 0) continue;
      const index = Math.floor(count / TILE_WIDTH);
      const t = await this.storage.readTile(key, level, index);
      if (t === undefined || t.width < count % TILE_WIDTH)
        throw new RemembrancerError('STORAGE_FAILURE', `tile ${level}/${index} of namespace key ${key} is missing`);
      out.push({ level, index, width: t.width, data: plainBytes(t.data) });
    }
    return out;
  }

  /** Adopts the stored latest checkpoint of `key` if it is newer than the one held. */
  async refreshCheckpoint(key: NamespaceKey): Promise<void> {
    const st = this.registry.findByKey(key);
    if (st === undefined) return;
    const cp = await this.storage.latestCheckpoint(key);
    if (cp !== undefined && cp.size > (st.latest?.size ?? -1)) {
      st.latest = { ...cp, root: plainBytes(cp.root) };
      this.onCheckpoint(st);
    }
  }

  /** Resolves once the namespace's integrated tree has `size` entries, or after `timeoutMs` (whichever first). */
  waitIntegrated(st: NamespaceState, size: number, timeoutMs: number): Promise<void> {
    if (st.range.size >= size || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const list = this.waiters.get(st.key) ?? [];
      const timer = setTimeout(() => {
        const i = list.indexOf(w);
        if (i >= 0) list.splice(i, 1);
        resolve();
      }, timeoutMs);
      const w: SizeWaiter = {
        size,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      list.push(w);
      this.waiters.set(st.key, list);
    });
  }

  /** The namespace's tree grew (here or elsewhere): wakes whoever waits for it. */
  grew(st: NamespaceState): void {
    const list = this.waiters.get(st.key);
    if (list === undefined) return;
    const still = list.filter((w) => (st.range.size >= w.size ? (w.resolve(), false) : true));
    if (still.length === 0) this.waiters.delete(st.key);
    else this.waiters.set(st.key, still);
  }
}
