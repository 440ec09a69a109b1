import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { HASH_SIZE, RemembrancerError, TILE_WIDTH } from '@vaultmesh/core';
import type {
  LogStorage,
  NamespaceCommit,
  NamespaceKey,
  NewNamespace,
  StoredCheckpoint,
  StoredNamespace,
  StoredTile,
  StoredTreeState,
} from '../log-storage.js';
import { LEAF_CHUNK, LEAF_CHUNK_TILES, buildLeafRun, runCandidates } from '../leaf-runs.js';
import { type CheckpointRow, type NamespaceRow, toCheckpoint, toNamespace } from '../log-rows.js';
import { storageFailure } from '../storage-failure.js';
import { joinHashes, plainView, splitHashes } from '../stored-hashes.js';
import { migrate } from './schema.js';
import { createPrivateDatabaseFile } from './sqlite-file.js';

export type SqliteSynchronous = 'FULL' | 'NORMAL';

/** Durability when none is chosen: an acknowledged append survives power loss (see synchronous below). */
export const DEFAULT_SQLITE_SYNCHRONOUS: SqliteSynchronous = 'FULL';

/** SQLite page cache when none is chosen, KiB: 32 MiB, where SQLite's own default is about 2 MiB. */
export const DEFAULT_SQLITE_CACHE_SIZE_KIB = 32_768;

/** Points inside the commit transaction where tests can inject a failure. */
export type CommitStage = 'entries' | 'tiles' | 'tree' | 'leaves';

export interface SqliteLogStorageOptions {
  /** Database file; its directory is created (mode 0700) if missing. */
  path: string;
  /**
   * FULL (DEFAULT_SQLITE_SYNCHRONOUS) fsyncs the WAL on every commit: an acknowledged append survives power loss.
   * NORMAL survives a process crash (kill -9) but may lose the last commits on power loss.
   */
  synchronous?: SqliteSynchronous;
  /** How long a statement waits for a lock held by another connection (backups, inspection). */
  busyTimeoutMs?: number;
  /** SQLite page cache, in KiB (DEFAULT_SQLITE_CACHE_SIZE_KIB). */
  cacheSizeKiB?: number;
  /** Test hook, called inside the commit transaction after each stage; a throw aborts the commit. */
  faultInjector?: (stage: CommitStage) => void;
}

type Stmt = Database.Statement;

/**
 * LogStorage on SQLite (better-sqlite3): WAL journal, one connection, prepared statements.
 * better-sqlite3 is synchronous: each method runs its statements (a transaction whole) before it
 * returns its promise, so a commit holds the event loop for its duration, including the fsync;
 * group commit keeps that to one fsync per batch. Errors reject the promise, never throw.
 */
export class SqliteLogStorage implements LogStorage {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly faultInjector: ((stage: CommitStage) => void) | undefined;
  private readonly s: {
    insertNamespace: Stmt;
    insertTreeState: Stmt;
    insertEntry: Stmt;
    upsertTile: Stmt;
    updateTree: Stmt;
    selectTree: Stmt;
    entryCount: Stmt;
    entryBytes: Stmt;
    selectEntry: Stmt;
    selectEntries: Stmt;
    selectTile: Stmt;
    insertCheckpoint: Stmt;
    pruneCheckpoints: Stmt;
    latestCheckpoint: Stmt;
    checkpointHistory: Stmt;
    selectNamespaces: Stmt;
    namespaceById: Stmt;
    insertLeafRun: Stmt;
    advanceLeafIndexed: Stmt;
    leafIndexed: Stmt;
    leafRuns: Stmt;
    chunkTiles: Stmt;
  };
  private readonly commitTx: Database.Transaction<(commits: readonly NamespaceCommit[]) => void>;
  private readonly createNamespaceTx: Database.Transaction<(ns: NewNamespace, cp: StoredCheckpoint) => StoredNamespace>;
  private readonly indexChunkTx: Database.Transaction<(ns: NamespaceKey, chunk: number) => void>;
  private readonly appendCheckpointsTx: Database.Transaction<
    (list: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[], retain: number) => void
  >;
  private closed = false;

  constructor(options: SqliteLogStorageOptions) {
    this.path = options.path;
    this.faultInjector = options.faultInjector;
    const synchronous = options.synchronous ?? DEFAULT_SQLITE_SYNCHRONOUS;
    if (synchronous !== 'FULL' && synchronous !== 'NORMAL') {
      throw new RemembrancerError('CONFIG_INVALID', `synchronous must be FULL or NORMAL, not ${String(synchronous)}`);
    }
    try {
      if (options.path !== ':memory:') {
        mkdirSync(dirname(options.path), { recursive: true, mode: 0o700 });
        createPrivateDatabaseFile(options.path);
      }
      this.db = new Database(options.path, { timeout: options.busyTimeoutMs ?? 5000 });
    } catch (cause) {
      throw storageFailure(`cannot open log database ${options.path}`, cause);
    }
    try {
      const db = this.db;
      const mode = db.pragma('journal_mode = WAL', { simple: true }) as string;
      if (options.path !== ':memory:' && mode.toLowerCase() !== 'wal') {
        throw new RemembrancerError('STORAGE_FAILURE', `cannot enable WAL journal (got ${mode})`);
      }
      db.pragma(`synchronous = ${synchronous}`);
      db.pragma(`cache_size = ${-Math.max(1024, Math.floor(options.cacheSizeKiB ?? DEFAULT_SQLITE_CACHE_SIZE_KIB))}`);
      // Bounded WAL file after checkpoints; the WAL itself still grows with a long read transaction.
      db.pragma('journal_size_limit = 67108864');
      db.pragma('temp_store = MEMORY');
      migrate(db);
      this.s = {
        insertNamespace: db.prepare(
          'INSERT INTO namespaces (id, origin, log_vkey, created_at, policy) VALUES (?, ?, ?, ?, ?)',
        ),
        insertTreeState: db.prepare('INSERT INTO tree_state (ns, size, compact_range) VALUES (?, 0, ?)'),
        insertEntry: db.prepare('INSERT INTO entries (ns, idx, data) VALUES (?, ?, ?)'),
        upsertTile: db.prepare(
          `INSERT INTO tiles (ns, level, idx, width, data) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT (ns, level, idx) DO UPDATE SET width = excluded.width, data = excluded.data`,
        ),
        updateTree: db.prepare(
          'UPDATE tree_state SET size = ?, compact_range = ?, entry_bytes = entry_bytes + ? WHERE ns = ? AND size = ?',
        ),
        selectTree: db.prepare('SELECT size, compact_range FROM tree_state WHERE ns = ?'),
        entryCount: db.prepare('SELECT max(idx) FROM entries WHERE ns = ?').pluck(),
        entryBytes: db.prepare('SELECT entry_bytes FROM tree_state WHERE ns = ?').pluck(),
        selectEntry: db.prepare('SELECT data FROM entries WHERE ns = ? AND idx = ?').pluck(),
        selectEntries: db
          .prepare('SELECT data FROM entries WHERE ns = ? AND idx >= ? AND idx < ? ORDER BY idx')
          .pluck(),
        selectTile: db.prepare('SELECT width, data FROM tiles WHERE ns = ? AND level = ? AND idx = ?').raw(),
        insertCheckpoint: db.prepare(
          'INSERT INTO checkpoints (ns, size, root, note, published_at) VALUES (?, ?, ?, ?, ?)',
        ),
        pruneCheckpoints: db.prepare(
          `DELETE FROM checkpoints WHERE ns = ? AND size < (
             SELECT size FROM checkpoints WHERE ns = ? ORDER BY size DESC LIMIT 1 OFFSET ?)`,
        ),
        latestCheckpoint: db.prepare(
          'SELECT size, root, note, published_at FROM checkpoints WHERE ns = ? ORDER BY size DESC LIMIT 1',
        ),
        checkpointHistory: db.prepare(
          'SELECT size, root, note, published_at FROM checkpoints WHERE ns = ? ORDER BY size DESC LIMIT ?',
        ),
        selectNamespaces: db.prepare(
          'SELECT key, id, origin, log_vkey, created_at, policy FROM namespaces ORDER BY key',
        ),
        namespaceById: db.prepare('SELECT key FROM namespaces WHERE id = ?').pluck(),
        insertLeafRun: db.prepare('INSERT INTO leaf_runs (ns, bucket, chunk, records) VALUES (?, ?, ?, ?)'),
        advanceLeafIndexed: db.prepare(
          'UPDATE tree_state SET leaf_indexed = ? WHERE ns = ? AND leaf_indexed = ? AND size >= ?',
        ),
        leafIndexed: db.prepare('SELECT leaf_indexed FROM tree_state WHERE ns = ?').pluck(),
        leafRuns: db
          .prepare('SELECT chunk, records FROM leaf_runs WHERE ns = ? AND bucket = ? AND chunk >= ? ORDER BY chunk')
          .raw(),
        // The base row only (the leaf hashes): half of a full stored tile.
        chunkTiles: db
          .prepare(
            `SELECT idx, width, substr(data, 1, ${TILE_WIDTH * HASH_SIZE}) FROM tiles
             WHERE ns = ? AND level = 0 AND idx >= ? AND idx < ? ORDER BY idx`,
          )
          .raw(),
      };
    } catch (cause) {
      this.db.close();
      throw storageFailure(`cannot initialise log database ${options.path}`, cause);
    }

    this.commitTx = this.db.transaction((commits: readonly NamespaceCommit[]) => this.writeCommits(commits));
    this.createNamespaceTx = this.db.transaction((ns: NewNamespace, cp: StoredCheckpoint) => {
      if (this.s.namespaceById.get(ns.id) !== undefined) {
        throw new RemembrancerError('NAMESPACE_EXISTS', `namespace ${ns.id} already exists`);
      }
      const r = this.s.insertNamespace.run(ns.id, ns.origin, ns.logVkey, ns.createdAt, ns.policy);
      const key = Number(r.lastInsertRowid);
      this.s.insertTreeState.run(key, new Uint8Array(0));
      this.s.insertCheckpoint.run(key, cp.size, cp.root, cp.note, cp.publishedAt);
      return { key, ...ns };
    });
    this.indexChunkTx = this.db.transaction((ns: NamespaceKey, chunk: number) => this.writeLeafRun(ns, chunk));
    this.appendCheckpointsTx = this.db.transaction(
      (list: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[], retain: number) => {
        for (const { ns, checkpoint: cp } of list) {
          this.s.insertCheckpoint.run(ns, cp.size, cp.root, cp.note, cp.publishedAt);
          this.s.pruneCheckpoints.run(ns, ns, retain - 1);
        }
      },
    );
  }

  async loadNamespaces(): Promise<StoredNamespace[]> {
    return this.read('list namespaces', () => (this.s.selectNamespaces.all() as NamespaceRow[]).map(toNamespace));
  }

  async createNamespace(ns: NewNamespace, initialCheckpoint: StoredCheckpoint): Promise<StoredNamespace> {
    this.assertOpen();
    try {
      return this.createNamespaceTx.immediate(ns, initialCheckpoint);
    } catch (cause) {
      throw storageFailure(`cannot create namespace ${ns.id}`, cause);
    }
  }

  async loadTreeState(ns: NamespaceKey): Promise<StoredTreeState> {
    return this.read('load tree state', () => {
      const row = this.s.selectTree.get(ns) as { size: number; compact_range: Uint8Array } | undefined;
      if (row === undefined) throw new RemembrancerError('STORAGE_FAILURE', `namespace key ${ns} has no tree state`);
      return { size: row.size, compactRange: splitHashes(row.compact_range) };
    });
  }

  async entryCount(ns: NamespaceKey): Promise<number> {
    return this.read('count entries', () => {
      const max = this.s.entryCount.get(ns) as number | null;
      return max === null ? 0 : max + 1;
    });
  }

  async entryBytes(ns: NamespaceKey): Promise<number> {
    return this.read('read entry bytes', () => {
      const n = this.s.entryBytes.get(ns) as number | undefined;
      if (n === undefined) throw new RemembrancerError('STORAGE_FAILURE', `namespace key ${ns} has no tree state`);
      return n;
    });
  }

  async leafIndexedSize(ns: NamespaceKey): Promise<number> {
    return this.read('read the leaf index size', () => {
      const n = this.s.leafIndexed.get(ns) as number | undefined;
      if (n === undefined) throw new RemembrancerError('STORAGE_FAILURE', `namespace key ${ns} has no tree state`);
      return n;
    });
  }

  async indexChunk(ns: NamespaceKey, chunk: number): Promise<void> {
    this.assertOpen();
    try {
      this.indexChunkTx.immediate(ns, chunk);
    } catch (cause) {
      throw storageFailure(`cannot index chunk ${chunk}`, cause);
    }
  }

  async leafCandidates(
    ns: NamespaceKey,
    leafHash: Uint8Array,
    fromChunk: number,
  ): Promise<{ chunk: number; indices: number[] } | undefined> {
    if (leafHash.length !== HASH_SIZE) {
      throw new RemembrancerError('INVALID_ARGUMENT', `a leaf hash is ${HASH_SIZE} bytes, got ${leafHash.length}`);
    }
    return this.read('search the leaf index', () => {
      for (const [chunk, records] of this.s.leafRuns.iterate(ns, leafHash[0], fromChunk) as Iterable<
        [number, Uint8Array]
      >) {
        const offsets = runCandidates(records, leafHash);
        if (offsets.length > 0) return { chunk, indices: offsets.map((o) => chunk * LEAF_CHUNK + o) };
      }
      return undefined;
    });
  }

  async commitBatch(commits: readonly NamespaceCommit[]): Promise<void> {
    this.assertOpen();
    try {
      this.commitTx.immediate(commits);
    } catch (cause) {
      throw storageFailure('commit failed', cause);
    }
  }

  private writeCommits(commits: readonly NamespaceCommit[]): void {
    const { insertEntry, upsertTile, updateTree } = this.s;
    for (const c of commits) {
      for (let i = 0; i < c.entries.length; i++) insertEntry.run(c.namespace, c.previousSize + i, c.entries[i]);
    }
    this.faultInjector?.('entries');
    for (const c of commits) {
      for (const t of c.tiles) {
        if (t.data.length === 0 || t.width < 1 || t.width > 256) {
          throw new RemembrancerError('STORAGE_FAILURE', `refusing malformed tile ${t.level}/${t.index}`);
        }
        upsertTile.run(c.namespace, t.level, t.index, t.width, t.data);
      }
    }
    this.faultInjector?.('tiles');
    for (const c of commits) {
      if (c.tree.size !== c.previousSize + c.entries.length) {
        throw new RemembrancerError('STORAGE_FAILURE', 'tree size does not match the entries committed');
      }
      let bytes = 0;
      for (const e of c.entries) bytes += e.length;
      const r = updateTree.run(c.tree.size, joinHashes(c.tree.compactRange), bytes, c.namespace, c.previousSize);
      // Guards against a second writer on the same file: our view of the tree must be the stored one.
      if (r.changes !== 1) {
        throw new RemembrancerError(
          'STORAGE_FAILURE',
          `namespace key ${c.namespace} is no longer at size ${c.previousSize}; is another process writing this database?`,
        );
      }
    }
    this.faultInjector?.('tree');
    for (const c of commits)
      if (c.indexLeaves === true) {
        for (let chunk = Math.floor(c.previousSize / LEAF_CHUNK); (chunk + 1) * LEAF_CHUNK <= c.tree.size; chunk++) {
          this.writeLeafRun(c.namespace, chunk);
        }
      }
    this.faultInjector?.('leaves');
  }

  /**
   * The run of one complete chunk, from its level-0 tiles (those of this transaction included),
   * inside the caller's transaction; refuses a gap or a chunk not wholly stored.
   */
  private writeLeafRun(ns: NamespaceKey, chunk: number): void {
    const start = chunk * LEAF_CHUNK;
    const r = this.s.advanceLeafIndexed.run(start + LEAF_CHUNK, ns, start, start + LEAF_CHUNK);
    if (r.changes !== 1) {
      throw new RemembrancerError(
        'STORAGE_FAILURE',
        `leaf index of namespace key ${ns} does not end at ${start}, or chunk ${chunk} is not wholly stored`,
      );
    }
    const first = chunk * LEAF_CHUNK_TILES;
    const tiles = this.s.chunkTiles.all(ns, first, first + LEAF_CHUNK_TILES) as [number, number, Uint8Array][];
    const hashes = new Uint8Array(LEAF_CHUNK * HASH_SIZE);
    tiles.forEach(([idx, width, data], i) => {
      // A stored tile starts with its base row: here, the leaf hashes.
      if (idx !== first + i || width !== TILE_WIDTH || data.length < width * HASH_SIZE) {
        throw new RemembrancerError('STORAGE_FAILURE', `level-0 tile ${first + i} of namespace key ${ns} is not full`);
      }
      hashes.set(data.subarray(0, width * HASH_SIZE), i * TILE_WIDTH * HASH_SIZE);
    });
    if (tiles.length !== LEAF_CHUNK_TILES) {
      throw new RemembrancerError('STORAGE_FAILURE', `chunk ${chunk} of namespace key ${ns} lacks level-0 tiles`);
    }
    for (const { bucket, records } of buildLeafRun(hashes)) this.s.insertLeafRun.run(ns, bucket, chunk, records);
  }

  async readEntry(ns: NamespaceKey, index: number): Promise<Uint8Array | undefined> {
    return this.read('read entry', () => {
      const e = this.s.selectEntry.get(ns, index) as Uint8Array | undefined;
      return e === undefined ? undefined : plainView(e);
    });
  }

  async readEntries(ns: NamespaceKey, start: number, end: number): Promise<Uint8Array[]> {
    return this.read('read entries', () => (this.s.selectEntries.all(ns, start, end) as Uint8Array[]).map(plainView));
  }

  async readTile(ns: NamespaceKey, level: number, index: number): Promise<StoredTile | undefined> {
    return this.read('read tile', () => {
      const row = this.s.selectTile.get(ns, level, index) as [number, Uint8Array] | undefined;
      return row === undefined ? undefined : { width: row[0], data: plainView(row[1]) };
    });
  }

  async appendCheckpoints(
    checkpoints: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[],
    retain: number,
  ): Promise<void> {
    this.assertOpen();
    if (!Number.isSafeInteger(retain) || retain < 1) {
      throw new RemembrancerError('INVALID_ARGUMENT', 'checkpoint retention must be a positive integer');
    }
    if (checkpoints.length === 0) return;
    try {
      this.appendCheckpointsTx.immediate(checkpoints, retain);
    } catch (cause) {
      throw storageFailure('cannot store checkpoints', cause);
    }
  }

  async latestCheckpoint(ns: NamespaceKey): Promise<StoredCheckpoint | undefined> {
    return this.read('read checkpoint', () => {
      const row = this.s.latestCheckpoint.get(ns) as CheckpointRow | undefined;
      return row === undefined ? undefined : toCheckpoint(row);
    });
  }

  async checkpointHistory(ns: NamespaceKey, limit: number): Promise<StoredCheckpoint[]> {
    return this.read('read checkpoint history', () =>
      (this.s.checkpointHistory.all(ns, limit) as CheckpointRow[]).map(toCheckpoint).reverse(),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Fold the WAL back into the main file so a closed database is one self-contained file.
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // A reader elsewhere may hold the WAL; the next open recovers it either way.
    }
    this.db.close();
  }

  private read<T>(what: string, fn: () => T): T {
    this.assertOpen();
    try {
      return fn();
    } catch (cause) {
      throw storageFailure(`cannot ${what}`, cause);
    }
  }

  private assertOpen(): void {
    if (this.closed) throw new RemembrancerError('SHUTTING_DOWN', 'log storage is closed');
  }
}
