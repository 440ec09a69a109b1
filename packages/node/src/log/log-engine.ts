/**
 * The contract between the HTTP/CLI layers and the log machinery (storage, sequencer, integrator,
 * checkpoint publisher). Entry payloads here are already-canonical bytes (RFC 8785 JCS UTF-8);
 * the layers above validate and canonicalize JSON, the engine never parses entries.
 */
export interface NamespaceRecord {
  /** e.g. `dao:vaultmesh` */
  id: string;
  /** `<node name>/<namespace id>`: the C2SP checkpoint origin and log key name. */
  origin: string;
  /** C2SP verifier key of this namespace's log (`<origin>+<keyid hex>+<base64(0x01||pubkey)>`). */
  logVkey: string;
  createdAt: string;
  /** Free-form policy JSON held for the namespace (later issues give it structure). */
  policy: Record<string, unknown>;
}

export interface AppendResult {
  index: number;
  leafHash: Uint8Array;
}

export interface PublishedCheckpoint {
  size: number;
  root: Uint8Array;
  /** The whole signed note (checkpoint body + signature lines), as served. */
  note: string;
  /** ISO-8601 time the checkpoint was signed. */
  publishedAt: string;
}

/**
 * Methods that read or write storage return promises and reject (never throw), whatever the
 * backend; what the engine answers from memory (namespaces, sizes, the latest checkpoint) stays
 * synchronous.
 */
export interface LogEngine {
  createNamespace(id: string, policy?: Record<string, unknown>): Promise<NamespaceRecord>;
  getNamespace(id: string): NamespaceRecord | undefined;
  listNamespaces(): NamespaceRecord[];

  /**
   * Whether this engine integrates and signs: always with one writer; with several front ends of
   * a shared database, while its front end holds the sequencing lease (others append and read).
   */
  readonly leading: boolean;

  /**
   * Queues entries for the namespace and resolves once their batch is durably committed, with the
   * indices assigned in order. Rejects with RemembrancerError QUEUE_FULL (pushback, retry later),
   * NAMESPACE_NOT_FOUND, ENTRY_TOO_LARGE or SHUTTING_DOWN; a rejected call stores nothing.
   */
  append(namespace: string, entries: readonly Uint8Array[]): Promise<AppendResult[]>;

  /** Number of durably sequenced entries (indices < this exist). */
  sequencedSize(namespace: string): number;
  /** Total payload bytes of the namespace's durably committed entries (what its storage quota counts). */
  storedBytes(namespace: string): number;
  /** Size of the tree whose hashes are integrated (proofs and roots are available up to it). */
  integratedSize(namespace: string): number;
  getEntry(namespace: string, index: number): Promise<Uint8Array | undefined>;
  getEntries(namespace: string, start: number, end: number): Promise<Uint8Array[]>;

  /** RFC 6962 root of the first `size` leaves; size ≤ integratedSize. */
  rootAt(namespace: string, size: number): Promise<Uint8Array>;
  inclusionProof(namespace: string, index: number, size: number): Promise<Uint8Array[]>;
  consistencyProof(namespace: string, from: number, to: number): Promise<Uint8Array[]>;
  leafHashAt(namespace: string, index: number): Promise<Uint8Array>;
  /**
   * The first index whose RFC 6962 leaf hash is `leafHash`, or undefined. NOT_FOUND if this
   * engine keeps no leaf-hash index (leafIndex: false).
   */
  findLeaf(namespace: string, leafHash: Uint8Array): Promise<number | undefined>;

  /** C2SP tlog-tiles: hash tile bytes (width×32) at tile level L, index N; undefined if not (yet) available at that width. */
  readTile(namespace: string, level: number, index: number, width: number): Promise<Uint8Array | undefined>;
  /** C2SP tlog-tiles entry bundle: entries [index*256, index*256+width), each as 2-byte big-endian length ‖ data. */
  readEntryBundle(namespace: string, index: number, width: number): Promise<Uint8Array | undefined>;

  /** Latest checkpoint published (signed) for the namespace, if any. */
  latestCheckpoint(namespace: string): PublishedCheckpoint | undefined;
  /** Checkpoints ever published for the namespace, oldest first (bounded by limit, newest kept). */
  checkpointHistory(namespace: string, limit?: number): Promise<PublishedCheckpoint[]>;
  /** Signs and stores a checkpoint now if the tree grew since the last one; resolves to it (or the unchanged latest). */
  publishCheckpoint(namespace: string): Promise<PublishedCheckpoint | undefined>;

  /**
   * Calls `listener` with the namespace id whenever its latest checkpoint became newer: after this
   * engine stored one it signed, or (following another front end) adopted one from storage.
   * Returns the unsubscribe function. A listener must not throw; it runs synchronously.
   */
  onCheckpoint(listener: (namespace: string) => void): () => void;
  /**
   * A client waits for a checkpoint of the namespace (adaptive checkpoints): while leading, the
   * engine signs one of the integrated tree soon, at most one per minCheckpointIntervalMs however
   * many ask; not leading (or closing), nothing happens and the holder's interval applies.
   */
  requestCheckpoint(namespace: string): void;

  /** Flushes queued work, stops timers, closes storage. Pending appends either commit or reject. */
  close(): Promise<void>;
}
