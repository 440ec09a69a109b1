/**
 * The witness's records and their row codec, shared by both backends (witness-store.ts on
 * SQLite, pg-witness-storage.ts on PostgreSQL): the same columns, the same bytes out.
 */

/** Bytes of a tree hash: a root, and each hash of a consistency proof. */
export const HASH_SIZE = 32;

/** The latest checkpoint a witness cosigned for one log. */
export interface WitnessedCheckpoint {
  readonly origin: string;
  /** Lowercase hex SHA-256 of the origin: the monitoring path segment. */
  readonly originHash: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** Checkpoint text, the log signatures that verified, and this witness's cosignature. */
  readonly note: string;
  /** POSIX seconds in that cosignature. */
  readonly cosignedAt: number;
  /** ISO 8601 time of the last update. */
  readonly updatedAt: string;
}

export type WitnessConflictReason = 'same-size-different-root' | 'inconsistent-proof';

/** A validly signed checkpoint that contradicts the one the witness cosigned: equivocation evidence to examine. */
export interface WitnessConflict {
  readonly origin: string;
  readonly reason: WitnessConflictReason;
  /** The note the witness had cosigned (at `oldSize`). */
  readonly storedNote: string;
  /** The offered checkpoint note, verbatim; its log signature verified. */
  readonly offeredNote: string;
  readonly oldSize: number;
  /** The consistency proof that came with it (empty for same-size conflicts). */
  readonly proof: readonly Uint8Array[];
  /** ISO 8601. */
  readonly observedAt: string;
}

/** Validly signed conflicting checkpoints kept per origin (newest first); older ones are dropped. */
export const MAX_CONFLICTS_PER_ORIGIN = 100;

/** Columns of a checkpoint row, in the order checkpointValues() gives them. */
export const CHECKPOINT_COLUMNS = 'origin, origin_hash, size, root, note, cosigned_at, updated_at';
/** Columns of a conflict row, in the order conflictValues() gives them. */
export const CONFLICT_COLUMNS = 'origin, reason, stored_note, offered_note, old_size, proof, observed_at';

/** A checkpoint row as either driver returns it (root: a Buffer from both). */
export interface CheckpointRow {
  origin: string;
  origin_hash: string;
  size: number;
  root: Uint8Array;
  note: string;
  cosigned_at: number;
  updated_at: string;
}

export interface ConflictRow {
  origin: string;
  reason: string;
  stored_note: string;
  offered_note: string;
  old_size: number;
  /** The proof's hashes concatenated. */
  proof: Uint8Array;
  observed_at: string;
}

export function toCheckpoint(r: CheckpointRow): WitnessedCheckpoint {
  return {
    origin: r.origin,
    originHash: r.origin_hash,
    size: r.size,
    root: new Uint8Array(r.root),
    note: r.note,
    cosignedAt: r.cosigned_at,
    updatedAt: r.updated_at,
  };
}

export function toConflict(r: ConflictRow): WitnessConflict {
  const proof: Uint8Array[] = [];
  for (let o = 0; o + HASH_SIZE <= r.proof.length; o += HASH_SIZE)
    proof.push(new Uint8Array(r.proof.subarray(o, o + HASH_SIZE)));
  return {
    origin: r.origin,
    reason: r.reason as WitnessConflictReason,
    storedNote: r.stored_note,
    offeredNote: r.offered_note,
    oldSize: r.old_size,
    proof,
    observedAt: r.observed_at,
  };
}

/** A checkpoint's values in CHECKPOINT_COLUMNS order. */
export function checkpointValues(c: WitnessedCheckpoint): [string, string, number, Uint8Array, string, number, string] {
  return [c.origin, c.originHash, c.size, c.root, c.note, c.cosignedAt, c.updatedAt];
}

/** A conflict's values in CONFLICT_COLUMNS order, the proof as one blob. */
export function conflictValues(c: WitnessConflict): [string, string, string, string, number, Uint8Array, string] {
  const proof = new Uint8Array(c.proof.length * HASH_SIZE);
  c.proof.forEach((h, i) => proof.set(h, i * HASH_SIZE));
  return [c.origin, c.reason, c.storedNote, c.offeredNote, c.oldSize, proof, c.observedAt];
}
