import { RemembrancerError } from '../errors.js';
import { crypto } from '../crypto/index.js';
import { base64Encode, toHex } from '../encoding/index.js';
import { canonicalBytes } from '../jcs/index.js';
import { NODE_NAME_PATTERN, parseRegistry, type RegistrySet, type RegistrySignature } from './registry-set.js';

/** The members that peers sign: the whole version except `signatures`. */
function unsignedMembers(set: RegistrySet): Omit<RegistrySet, 'signatures'> {
  const { signatures: _signatures, ...rest } = set;
  return rest;
}

/**
 * What every signature of a version covers: the RFC 8785 (JCS) bytes of the document without its
 * `signatures` member, so signatures can be collected in any order without invalidating each other.
 */
export function registrySigningBytes(set: RegistrySet): Uint8Array {
  return canonicalBytes(unsignedMembers(parseRegistry(set)));
}

/**
 * Lowercase hex SHA-256 of the JCS bytes of the full version, signatures included: the `prev` of
 * the next version. Including the signatures pins down which approvals made this version valid.
 */
export function registryDigest(set: RegistrySet): string {
  return toHex(crypto.sha256(canonicalBytes(parseRegistry(set))));
}

/** Raw Ed25519 signature of the version's signing bytes by a 32-byte auth key seed. */
export function registrySignatureBytes(set: RegistrySet, authSeed: Uint8Array): Uint8Array {
  if (!(authSeed instanceof Uint8Array) || authSeed.length !== 32) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'an auth key seed must be 32 bytes');
  }
  return crypto.ed25519Sign(authSeed, registrySigningBytes(set));
}

/**
 * Adds `peerId`'s signature, replacing any earlier one by that peer, and keeps signatures sorted by
 * peer id so that every node assembling the same approvals gets the same document (and digest).
 * The seed is the peer's auth key in the version that authorizes this one: after a key rotation,
 * the old key signs. Which key that must be is the verifier's business, so it is not checked here.
 */
export function signRegistry(set: RegistrySet, peerId: string, authSeed: Uint8Array): RegistrySet {
  const parsed = parseRegistry(set);
  if (typeof peerId !== 'string' || !NODE_NAME_PATTERN.test(peerId)) {
    throw new RemembrancerError('INVALID_ARGUMENT', `invalid peer id ${JSON.stringify(String(peerId).slice(0, 64))}`);
  }
  const sig = base64Encode(registrySignatureBytes(parsed, authSeed));
  const signatures: RegistrySignature[] = [
    ...parsed.signatures.filter((s) => s.peer !== peerId),
    { peer: peerId, sig },
  ];
  signatures.sort((a, b) => (a.peer < b.peer ? -1 : a.peer > b.peer ? 1 : 0));
  return parseRegistry({ ...parsed, signatures });
}
