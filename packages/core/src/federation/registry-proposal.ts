import {
  parseRegistry,
  type AnchorStrategy,
  type RegistryPeer,
  type RegistryQuorum,
  type RegistrySet,
} from './registry-set.js';
import { registryDigest } from './registry-signature.js';
import { checkRegistrySuccession } from './registry-verification.js';

export interface GenesisInput {
  readonly federation_id: string;
  readonly peers: readonly RegistryPeer[];
  readonly quorum: RegistryQuorum;
  readonly anchor_strategy: AnchorStrategy;
  /** Defaults to the empty string. */
  readonly memo?: string;
  /** RFC 3339 UTC; core has no clock, so the caller says when (e.g. `new Date().toISOString()`). */
  readonly effective_after: string;
}

/** An unsigned version 1; every founding peer then signs it with signRegistry. REGISTRY_INVALID if malformed. */
export function createGenesis(input: GenesisInput): RegistrySet {
  return parseRegistry({
    federation_id: input.federation_id,
    version: 1,
    prev: null,
    effective_after: input.effective_after,
    peers: input.peers,
    quorum: input.quorum,
    anchor_strategy: input.anchor_strategy,
    memo: input.memo ?? '',
    signatures: [],
  });
}

export interface RegistryChanges {
  /** The complete new peer list (joins, suspensions, removals, rotations, endpoint moves). */
  readonly peers?: readonly RegistryPeer[];
  readonly quorum?: RegistryQuorum;
  readonly memo?: string;
  readonly anchor_strategy?: AnchorStrategy;
  /** Defaults to the previous version's; must not be before it. */
  readonly effective_after?: string;
}

/**
 * The unsigned successor of `prev` with `changes` applied: version + 1, `prev` its digest, no
 * signatures, the memo cleared unless given. Throws REGISTRY_INVALID if the result is malformed
 * or could never be a valid successor; the active peers of `prev` then sign it.
 */
export function proposeNext(prev: RegistrySet, changes: RegistryChanges): RegistrySet {
  const p = parseRegistry(prev);
  const next = parseRegistry({
    federation_id: p.federation_id,
    version: p.version + 1,
    prev: registryDigest(p),
    effective_after: changes.effective_after ?? p.effective_after,
    peers: changes.peers ?? p.peers,
    quorum: changes.quorum ?? p.quorum,
    anchor_strategy: changes.anchor_strategy ?? p.anchor_strategy,
    memo: changes.memo ?? '',
    signatures: [],
  });
  checkRegistrySuccession(p, next);
  return next;
}
