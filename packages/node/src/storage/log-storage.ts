/**
 * The narrow persistence contract of the log engine. Everything the engine writes goes through
 * `commitBatch`, one atomic unit per group commit, so a backend needs exactly one kind of write
 * transaction; reads are point or range lookups by (namespace, position).
 *
 * Every method that touches storage returns a promise, so a networked backend (PostgreSQL) can
 * answer over its connection. The SQLite backend runs its synchronous better-sqlite3 code inside
 * those methods (a transaction is never split across an await) and its promises are already
 * settled when returned. Failures reject (never throw): RemembrancerError STORAGE_FAILURE, or
 * SHUTTING_DOWN once the storage is closed. The engine reads hashes through its own tile cache
 * (log/tile-store.ts) and awaits the backend only on a miss.
 */

/** Internal, dense namespace key; the public id (`dao:vaultmesh`) is stored alongside. */
export type NamespaceKey = number;

export interface StoredNamespace {
  key: NamespaceKey;
  id: string;
  origin: string;
  logVkey: string;
  createdAt: string;
  /** Policy document as JSON text. */
  policy: string;
}

export type NewNamespace = Omit<StoredNamespace, 'key'>;

/**
 * The integrated tree of a namespace: its size and the hashes of its compact range (the perfect
 * subtrees of [0, size), largest first, as RFC 9162 §2.1.1 splits the tree).
 */
export interface StoredTreeState {
  size: number;
  compactRange: Uint8Array[];
}

/**
 * A hash tile as stored: `width` hashes of the tile's base level followed by its interior rows
 * (see log/stored-tile-layout.ts). The first width×32 bytes are the C2SP tlog-tiles tile.
 */
export interface StoredTile {
  width: number;
  data: Uint8Array;
}

export interface TileWrite extends StoredTile {
  level: number;
  index: number;
}

/** Everything one namespace contributes to a group commit. */
export interface NamespaceCommit {
  namespace: NamespaceKey;
  /** Tree size before this commit; the first entry gets this index. */
  previousSize: number;
  entries: readonly Uint8Array[];
  /** Every tile whose contents changed, in its new complete form. */
  tiles: readonly TileWrite[];
  tree: StoredTreeState;
  /**
   * Keep the leaf-hash index: each chunk of entries this commit completes gets its run (see
   * leaf-runs.ts) in the same transaction, from the level-0 tiles written with it, so the index
   * never lags a durable entry. The runs must cover every complete chunk below previousSize.
   */
  indexLeaves?: boolean;
}

export interface StoredCheckpoint {
  size: number;
  root: Uint8Array;
  /** Signed note text, as served. */
  note: string;
  publishedAt: string;
}

export interface LogStorage {
  /** Every namespace, in creation order. */
  loadNamespaces(): Promise<StoredNamespace[]>;
  /**
   * Creates the namespace with an empty tree and its size-0 checkpoint, atomically. Rejects with
   * RemembrancerError NAMESPACE_EXISTS if the id is taken.
   */
  createNamespace(ns: NewNamespace, initialCheckpoint: StoredCheckpoint): Promise<StoredNamespace>;

  loadTreeState(ns: NamespaceKey): Promise<StoredTreeState>;
  /** Number of stored entries (one past the highest index), for the consistency check on open. */
  entryCount(ns: NamespaceKey): Promise<number>;
  /**
   * Sum of the byte lengths of the namespace's stored entries, as kept by commitBatch in the same
   * transaction as the entries (storage quotas read it; it is never recomputed by scanning).
   */
  entryBytes(ns: NamespaceKey): Promise<number>;

  /**
   * Writes entries, tiles and tree states of several namespaces in one atomic transaction, and
   * adds each namespace's entry bytes to its running total (see entryBytes).
   * Rejects with RemembrancerError STORAGE_FAILURE and leaves nothing behind on failure,
   * including when a namespace's stored size differs from `previousSize` (another writer).
   */
  commitBatch(commits: readonly NamespaceCommit[]): Promise<void>;

  /** How many entries, [0, n), the runs of the leaf-hash index cover (a multiple of LEAF_CHUNK). */
  leafIndexedSize(ns: NamespaceKey): Promise<number>;
  /**
   * Writes the run of chunk `chunk` from its stored level-0 tiles, in one transaction (the
   * back-fill of a log indexed late). STORAGE_FAILURE, and nothing written, unless the runs end
   * exactly at this chunk and its entries are all stored.
   */
  indexChunk(ns: NamespaceKey, chunk: number): Promise<void>;
  /**
   * Indices under the runs whose leaf hash may be `leafHash` (same 48-bit key), ascending, from
   * the runs of chunks `fromChunk` on, stopping after the first chunk with any. The caller checks
   * each against the tree (keys can collide) and asks again from the next chunk if none matches.
   */
  leafCandidates(
    ns: NamespaceKey,
    leafHash: Uint8Array,
    fromChunk: number,
  ): Promise<{ chunk: number; indices: number[] } | undefined>;

  readEntry(ns: NamespaceKey, index: number): Promise<Uint8Array | undefined>;
  /** Entries [start, end) that exist, in index order. */
  readEntries(ns: NamespaceKey, start: number, end: number): Promise<Uint8Array[]>;
  readTile(ns: NamespaceKey, level: number, index: number): Promise<StoredTile | undefined>;

  /**
   * Stores checkpoints (one transaction for all, so a publisher tick over many namespaces costs
   * one sync), then drops each namespace's oldest beyond its newest `retain`.
   */
  appendCheckpoints(
    checkpoints: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[],
    retain: number,
  ): Promise<void>;
  latestCheckpoint(ns: NamespaceKey): Promise<StoredCheckpoint | undefined>;
  /** The newest `limit` checkpoints, oldest first. */
  checkpointHistory(ns: NamespaceKey, limit: number): Promise<StoredCheckpoint[]>;

  /**
   * Releases the storage; later calls reject with SHUTTING_DOWN. A promise because a networked
   * backend ends its connection pool asynchronously (the engine's close() awaits it last).
   */
  close(): Promise<void>;
}
