import { canonicalize, parseRegistry, registryDigest, type RegistrySet } from '@vaultmesh/core';

/**
 * The federation state's records and their row codec, shared by both backends
 * (federation-store.ts on SQLite, pg-federation-storage.ts on PostgreSQL): the same columns, the
 * same documents out.
 */

/** Equivocation evidence as held: the verified document and when and under which registry version it arrived. */
export interface StoredEvidence {
  /** Lowercase hex SHA-256 of the document's JCS bytes. */
  digest: string;
  origin: string;
  doc: unknown;
  receivedAt: string;
  registryVersion: number;
}

/** One witness's newest cosignature of a checkpoint. */
export interface StoredCosignature {
  witness: string;
  line: string;
  timestamp: number;
}

/** A first epoch signature as held: the statement (parsed back from its JCS text) and the signature. */
export interface HeldEpochSignature {
  statement: unknown;
  sig: string;
}

/** Columns of an evidence row, in the order evidenceValues() gives them. */
export const EVIDENCE_COLUMNS = 'digest, origin, doc, received_at, registry_version';

export interface EvidenceRow {
  digest: string;
  origin: string;
  /** JCS text. */
  doc: string;
  received_at: string;
  registry_version: number;
}

export function toStoredEvidence(r: EvidenceRow): StoredEvidence {
  return {
    digest: r.digest,
    origin: r.origin,
    doc: JSON.parse(r.doc) as unknown,
    receivedAt: r.received_at,
    registryVersion: r.registry_version,
  };
}

/** Evidence's values in EVIDENCE_COLUMNS order: the document as its JCS text. */
export function evidenceValues(
  digest: string,
  origin: string,
  doc: unknown,
  receivedAt: string,
  registryVersion: number,
): [string, string, string, string, number] {
  return [digest, origin, canonicalize(doc), receivedAt, registryVersion];
}

/** Columns of a registry version row, in the order registryValues() gives them. */
export const REGISTRY_COLUMNS = 'version, digest, doc, accepted_at';

/** A registry version's values in REGISTRY_COLUMNS order: the document as its JCS text. */
export function registryValues(set: RegistrySet, acceptedAt: string): [number, string, string, string] {
  return [set.version, registryDigest(set), canonicalize(set), acceptedAt];
}

/** A stored registry document (JCS text) as the verified set it was. */
export function toRegistry(doc: string): RegistrySet {
  return parseRegistry(JSON.parse(doc));
}

/** A held epoch signature row (statement as JCS text). */
export function toHeldEpochSignature(r: { statement: string; sig: string }): HeldEpochSignature {
  return { statement: JSON.parse(r.statement) as unknown, sig: r.sig };
}
