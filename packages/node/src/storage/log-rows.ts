import type { StoredCheckpoint, StoredNamespace } from './log-storage.js';

/*
 * The log's namespace and checkpoint rows as every backend stores them: the same columns in
 * SQLite's `namespaces`/`checkpoints` and PostgreSQL's `log_namespaces`/`log_checkpoints`, so one
 * conversion serves both.
 */

export interface NamespaceRow {
  key: number;
  id: string;
  origin: string;
  log_vkey: string;
  created_at: string;
  policy: string;
}

export interface CheckpointRow {
  size: number;
  root: Uint8Array;
  note: string;
  published_at: string;
}

export function toNamespace(row: NamespaceRow): StoredNamespace {
  return {
    key: row.key,
    id: row.id,
    origin: row.origin,
    logVkey: row.log_vkey,
    createdAt: row.created_at,
    policy: row.policy,
  };
}

/** The root is copied out of the driver's buffer: a stored checkpoint owns its bytes. */
export function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { size: row.size, root: new Uint8Array(row.root), note: row.note, publishedAt: row.published_at };
}
