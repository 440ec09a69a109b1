import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Decode } from '../encoding/index.js';
import { activePeers, peerAuthPublicKey, peerById } from './registry-peers.js';
import { parseRegistry, type RegistrySet } from './registry-set.js';
import { registryDigest, registrySigningBytes } from './registry-signature.js';
import { compareUtcTimestamps } from './timestamp.js';

/*
 * Who may change the registry: version 1 needs every founding peer; every later version needs
 * `quorum.registry` of the previous version's active peers, each verified with the auth key the
 * previous version lists. So joining, suspension, removal and key rotation all need the peers in
 * force to agree, a rotated key is authorized by the old one, and every old signature stays
 * verifiable against the version that was in force when it was made.
 */

export type IgnoredReason = 'unknown peer' | 'not active' | 'duplicate' | 'invalid signature';

export interface RegistryApprovals {
  /** Distinct signatures needed. */
  readonly required: number;
  /** Peers whose signature verified, in document order. */
  readonly approvedBy: readonly string[];
  /** Signatures that count for nothing, and why. */
  readonly ignored: readonly { readonly peer: string; readonly reason: IgnoredReason }[];
  /** Eligible peers that have not (validly) signed yet. */
  readonly pending: readonly string[];
  readonly satisfied: boolean;
}

/**
 * Which signatures of `set` count: against the authorizing version `prev` (its active peers and
 * their auth keys, `prev.quorum.registry` needed), or for a genesis (`prev` null) against the
 * set's own peers, all of whom must sign. Nothing else is checked; this is the signature half of
 * verifyGenesis / verifyRegistryTransition, for status displays and `federation sign`.
 */
export function registryApprovals(set: RegistrySet, prev: RegistrySet | null): RegistryApprovals {
  const next = parseRegistry(set);
  const authority = prev === null ? next : parseRegistry(prev);
  const eligible = prev === null ? authority.peers : activePeers(authority);
  const required = prev === null ? authority.peers.length : authority.quorum.registry;
  const message = registrySigningBytes(next);
  const approvedBy: string[] = [];
  const ignored: { peer: string; reason: IgnoredReason }[] = [];
  for (const s of next.signatures) {
    const peer = peerById(authority, s.peer);
    let reason: IgnoredReason | undefined;
    if (peer === undefined) reason = 'unknown peer';
    else if (!eligible.includes(peer)) reason = 'not active';
    else if (approvedBy.includes(peer.id)) reason = 'duplicate';
    else if (!crypto.ed25519Verify(peerAuthPublicKey(peer), message, base64Decode(s.sig))) reason = 'invalid signature';
    if (reason === undefined) approvedBy.push(s.peer);
    else ignored.push({ peer: s.peer, reason });
  }
  const pending = eligible.map((p) => p.id).filter((id) => !approvedBy.includes(id));
  return { required, approvedBy, ignored, pending, satisfied: approvedBy.length >= required };
}

function describe(a: RegistryApprovals): string {
  const parts = [`signed by ${a.approvedBy.length} of the ${a.required} required`];
  if (a.approvedBy.length > 0) parts.push(`valid: ${a.approvedBy.join(', ')}`);
  if (a.ignored.length > 0) parts.push(`ignored: ${a.ignored.map((i) => `${i.peer} (${i.reason})`).join(', ')}`);
  if (a.pending.length > 0) parts.push(`missing: ${a.pending.join(', ')}`);
  return parts.join('; ');
}

/**
 * Throws unless `set` is a valid version 1 (REGISTRY_INVALID) signed by every peer it lists, each
 * with its own auth key (REGISTRY_NOT_AUTHORIZED): founding needs unanimous consent.
 */
export function verifyGenesis(set: RegistrySet): void {
  const genesis = parseRegistry(set);
  if (genesis.version !== 1) {
    throw new RemembrancerError(
      'REGISTRY_INVALID',
      `registry genesis must be version 1, got version ${genesis.version}`,
    );
  }
  const a = registryApprovals(genesis, null);
  if (!a.satisfied) {
    throw new RemembrancerError(
      'REGISTRY_NOT_AUTHORIZED',
      `registry genesis of ${JSON.stringify(genesis.federation_id)} needs the signature of every founding peer: ${describe(a)}`,
    );
  }
}

/**
 * The rules a proposed version must meet before anyone signs it: same federation, version exactly
 * prev.version + 1 (REGISTRY_STALE if not newer), `prev` the digest of the previous version, and
 * an effective time not before the previous one. Both arguments must already be parsed.
 */
export function checkRegistrySuccession(prev: RegistrySet, next: RegistrySet): void {
  if (next.federation_id !== prev.federation_id) {
    throw new RemembrancerError(
      'REGISTRY_INVALID',
      `registry federation_id ${JSON.stringify(next.federation_id)} differs from ${JSON.stringify(prev.federation_id)} of version ${prev.version}`,
    );
  }
  if (next.version <= prev.version) {
    throw new RemembrancerError(
      'REGISTRY_STALE',
      `registry version ${next.version} is not newer than version ${prev.version} in force`,
    );
  }
  if (next.version !== prev.version + 1) {
    throw new RemembrancerError(
      'REGISTRY_INVALID',
      `registry version ${next.version} skips versions: the next version after ${prev.version} is ${prev.version + 1}`,
    );
  }
  const digest = registryDigest(prev);
  if (next.prev !== digest) {
    throw new RemembrancerError(
      'REGISTRY_INVALID',
      `registry version ${next.version} has prev ${next.prev}, but version ${prev.version} has digest ${digest}`,
    );
  }
  if (compareUtcTimestamps(next.effective_after, prev.effective_after) < 0) {
    throw new RemembrancerError(
      'REGISTRY_INVALID',
      `registry version ${next.version} is effective after ${next.effective_after}, before version ${prev.version} (${prev.effective_after})`,
    );
  }
}

/**
 * Throws unless `next` is a valid successor of `prev`: checkRegistrySuccession, then signatures by
 * at least prev.quorum.registry distinct active peers of `prev`, each verified with the auth key
 * `prev` lists (REGISTRY_NOT_AUTHORIZED). Unknown, inactive, duplicate and invalid signatures count
 * for nothing. Both arguments are attacker-controlled and are re-checked for form (REGISTRY_INVALID).
 */
export function verifyRegistryTransition(prev: RegistrySet, next: RegistrySet): void {
  const p = parseRegistry(prev);
  const n = parseRegistry(next);
  checkRegistrySuccession(p, n);
  const a = registryApprovals(n, p);
  if (!a.satisfied) {
    throw new RemembrancerError(
      'REGISTRY_NOT_AUTHORIZED',
      `registry version ${n.version} needs ${a.required} signatures by active peers of version ${p.version}: ${describe(a)}`,
    );
  }
}

/**
 * Verifies a whole history, genesis first, each version against the one before, and returns the
 * latest (a parsed copy). A node that trusts nothing but the genesis verifies any later version so.
 */
export function verifyRegistryChain(sets: readonly RegistrySet[]): RegistrySet {
  if (!Array.isArray(sets) || sets.length === 0) {
    throw new RemembrancerError('REGISTRY_INVALID', 'a registry chain needs at least the genesis version');
  }
  let current = parseRegistry(sets[0]);
  verifyGenesis(current);
  for (let i = 1; i < sets.length; i++) {
    const next = parseRegistry(sets[i]);
    verifyRegistryTransition(current, next);
    current = next;
  }
  return current;
}
