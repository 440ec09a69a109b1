import type { RegistrySet } from '@vaultmesh/core';
import type { HeldEpochSignature, StoredCosignature, StoredEvidence } from './federation-records.js';

/**
 * A node's federation state (registry versions, request nonces, cosignatures, equivocation
 * evidence and who holds it, first epoch signatures), on SQLite (SqliteFederationStorage) or
 * PostgreSQL (PgFederationStorage). Every operation is atomic on its own; where a caller's check
 * and write must not be interleaved with another front end's, the operation is one
 * compare-and-set (noted below). Failures are STORAGE_FAILURE; use after close() is SHUTTING_DOWN.
 */
export interface FederationStorage {
  /** Every registry version accepted, oldest first. */
  registryVersions(): Promise<RegistrySet[]>;
  latestRegistry(): Promise<RegistrySet | undefined>;
  /**
   * Stores a version the caller verified against the latest it knew. A compare-and-set: a
   * verified version N+1 names version N's digest, and version numbers are unique, so if another
   * front end stored its N+1 first this one is refused (REGISTRY_STALE) instead of forking the
   * registry; the caller re-reads the latest.
   */
  addRegistryVersion(set: RegistrySet, acceptedAt: string): Promise<void>;
  /**
   * Records a request nonce; false if this key already used it (a replay). Atomic across every
   * front end of the database: of two requests with one nonce, on any front ends, exactly one
   * gets true. Nonces older than `forgetBefore` (unix seconds) are dropped first: requests that
   * old fail the clock-skew check anyway.
   */
  rememberNonce(keyid: string, nonce: string, created: number, forgetBefore: number): Promise<boolean>;
  /** Keeps the newest cosignature of each witness on one checkpoint (origin, size, root); a cosignature of another root at that size is ignored. */
  addCosignature(
    origin: string,
    size: number,
    root: string,
    witness: string,
    line: string,
    timestamp: number,
  ): Promise<void>;
  /** The cosignatures of one checkpoint, by witness (byte order). */
  cosignatures(origin: string, size: number, root: string): Promise<StoredCosignature[]>;
  /**
   * Stores evidence once (keyed by digest); true if it was new — true for exactly one caller
   * across front ends. `registryVersion` is the version in force when it was accepted.
   */
  addEvidence(
    digest: string,
    origin: string,
    doc: unknown,
    receivedAt: string,
    registryVersion: number,
  ): Promise<boolean>;
  /** Evidence held, oldest first (then by digest); of one origin or of all. */
  evidence(origin?: string): Promise<StoredEvidence[]>;
  /**
   * The first valid signature `signer` was seen to give for an epoch, recording this one if it is
   * the first — an insert-or-get, atomic across front ends: every caller gets the same first
   * signature. When this one was recorded, rows older than `forgetBeforeMs` are dropped.
   */
  firstEpochSignature(
    epochKey: string,
    signer: string,
    statement: unknown,
    sig: string,
    seenAtMs: number,
    forgetBeforeMs: number,
  ): Promise<HeldEpochSignature>;
  /** Records that `peer` holds the evidence (idempotent). */
  markEvidenceDelivered(digest: string, peer: string, deliveredAt: string): Promise<void>;
  /** The peers known to hold the evidence, in byte order. */
  evidenceDeliveries(digest: string): Promise<string[]>;
  /** Idempotent. */
  close(): Promise<void>;
}
