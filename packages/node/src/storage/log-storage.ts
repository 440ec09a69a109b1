/**
 * The narrow persistence contract of the log engine. Everything the engine writes goes through
 * `commitBatch`, one atomic unit per group commit, so a backend needs exactly one kind of write
 * transaction; reads are point or range lookups by (namespace, position).
 *
 * The SQLite backend is synchronous. `commitBatch` may also return a promise so that a networked
 * backend (PostgreSQL) can implement the write path without the engine changing; such a backend
 * serves reads from the engine's tile cache and its own read-through layer.
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
  loadNamespaces(): StoredNamespace[];
  /**
   * Creates the namespace with an empty tree and its size-0 checkpoint, atomically. Throws
   * RemembrancerError NAMESPACE_EXISTS if the id is taken.
   */
  createNamespace(ns: NewNamespace, initialCheckpoint: StoredCheckpoint): StoredNamespace;

  loadTreeState(ns: NamespaceKey): StoredTreeState;
  /** Number of stored entries (one past the highest index), for the consistency check on open. */
  entryCount(ns: NamespaceKey): number;
  /**
   * Sum of the byte lengths of the namespace's stored entries, as kept by commitBatch in the same
   * transaction as the entries (storage quotas read it; it is never recomputed by scanning).
   */
  entryBytes(ns: NamespaceKey): number;

  /**
   * Writes entries, tiles and tree states of several namespaces in one atomic transaction, and
   * adds each namespace's entry bytes to its running total (see entryBytes).
   * Throws (or rejects) RemembrancerError STORAGE_FAILURE and leaves nothing behind on failure,
   * including when a namespace's stored size differs from `previousSize` (another writer).
   */
  commitBatch(commits: readonly NamespaceCommit[]): void | Promise<void>;

  /** How many entries, [0, n), the runs of the leaf-hash index cover (a multiple of LEAF_CHUNK). */
  leafIndexedSize(ns: NamespaceKey): number;
  /**
   * Writes the run of chunk `chunk` from its stored level-0 tiles, in one transaction (the
   * back-fill of a log indexed late). STORAGE_FAILURE, and nothing written, unless the runs end
   * exactly at this chunk and its entries are all stored.
   */
  indexChunk(ns: NamespaceKey, chunk: number): void;
  /**
   * Indices under the runs whose leaf hash may be `leafHash` (same 48-bit key), ascending, from
   * the runs of chunks `fromChunk` on, stopping after the first chunk with any. The caller checks
   * each against the tree (keys can collide) and asks again from the next chunk if none matches.
   */
  leafCandidates(
    ns: NamespaceKey,
    leafHash: Uint8Array,
    fromChunk: number,
  ): { chunk: number; indices: number[] } | undefined;

  readEntry(ns: NamespaceKey, index: number): Uint8Array | undefined;
  /** Entries [start, end) that exist, in index order. */
  readEntries(ns: NamespaceKey, start: number, end: number): Uint8Array[];
  readTile(ns: NamespaceKey, level: number, index: number): StoredTile | undefined;

  /**
   * Stores checkpoints (one transaction for all, so a publisher tick over many namespaces costs
   * one sync), then drops each namespace's oldest beyond its newest `retain`.
   */
  appendCheckpoints(checkpoints: readonly { ns: NamespaceKey; checkpoint: StoredCheckpoint }[], retain: number): void;
  latestCheckpoint(ns: NamespaceKey): StoredCheckpoint | undefined;
  /** The newest `limit` checkpoints, oldest first. */
  checkpointHistory(ns: NamespaceKey, limit: number): StoredCheckpoint[];

  close(): void;
}
