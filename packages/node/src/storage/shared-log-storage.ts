import type { LogStorage, NamespaceCommit, NamespaceKey, StoredTreeState } from './log-storage.js';

/** Entries of one namespace for shared sequencing (several front ends). */
export interface SequencedGroup {
  namespace: NamespaceKey;
  entries: readonly Uint8Array[];
}

/** The lease holder's integration of entries front ends sequenced: tiles and tree, no entries. */
export interface IntegrationCommit {
  namespace: NamespaceKey;
  /** Integrated size before; the stored tree must be at it. */
  previousSize: number;
  tiles: NamespaceCommit['tiles'];
  /** The tree after; its size may not pass the sequenced entries. */
  tree: StoredTreeState;
  indexLeaves?: boolean;
}

/** A namespace's two sizes: entries integrated into the tree, and entries sequenced (stored, indices given). */
export interface SequencingState {
  namespace: NamespaceKey;
  size: number;
  sequenced: number;
}

/** What changed, told to every front end: sequenced entries, integration, a checkpoint, a new namespace. */
export type LogChange = 'sequenced' | 'integrated' | 'checkpoint' | 'namespace';

export interface LogWatch {
  onChange: (change: LogChange, ns: NamespaceKey) => void;
  /** After every (re)connection: changes may have been missed, re-read everything followed. */
  onResync: () => void;
  onError?: (error: Error) => void;
}

/**
 * A LogStorage several front ends share (issue 14): any of them sequences entries (the storage
 * gives the indices), the lease holder integrates them and signs checkpoints, and every front end
 * hears of each change to keep what it holds in memory current. PostgreSQL implements it.
 */
export interface SharedLogStorage extends LogStorage {
  /**
   * Stores each group's entries at the next indices of its namespace, in one transaction, and
   * resolves to each group's first index: no gap, no duplicate, commit order; counted in entryBytes.
   */
  sequence(groups: readonly SequencedGroup[]): Promise<number[]>;
  /** Integrated and sequenced sizes of every namespace. */
  sequencingStates(): Promise<SequencingState[]>;
  /** Fenced: tiles and tree over sequenced entries; the stored tree must be at previousSize. */
  integrate(commits: readonly IntegrationCommit[]): Promise<void>;
  /** Starts telling `watch` of changes; resolves to a function that stops it. */
  watch(watch: LogWatch): Promise<() => Promise<void>>;
}

export function isSharedLogStorage(s: LogStorage): s is SharedLogStorage {
  return typeof (s as Partial<SharedLogStorage>).sequence === 'function';
}
