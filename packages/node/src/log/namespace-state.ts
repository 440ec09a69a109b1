import type { CompactRange, NoteSigner } from '@vaultmesh/core';
import type { NamespaceKey } from '../storage/log-storage.js';
import type { NamespaceRecord, PublishedCheckpoint } from './log-engine.js';
import type { EdgeFolds } from './proof-builder.js';

/** What the engine holds in memory per namespace: a few hundred bytes, whatever the log size. */
export interface NamespaceState {
  readonly key: NamespaceKey;
  readonly record: NamespaceRecord;
  readonly signer: NoteSigner;
  /** Integrated tree; replaced (never mutated) when a commit is durable. */
  range: CompactRange;
  /** Root of `range`, computed on first use. */
  root: Uint8Array | undefined;
  latest: PublishedCheckpoint | undefined;
  /** Payload bytes of the committed entries (what the storage quota counts): loaded on open, advanced by each commit. */
  storedBytes: number;
  /**
   * With several front ends (shared sequencing): entries stored and given indices, of which
   * `range` has integrated a prefix. Undefined when this process integrates what it stores.
   */
  sequenced?: number;
  /** Right-edge tables of recently proven-against sizes (they never change: the log is append-only). */
  edges: Map<number, EdgeFolds>;
}
