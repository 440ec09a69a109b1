import { RemembrancerError } from '../errors.js';
import { bytesEqual } from '../encoding/index.js';
import { NAMESPACE_ID_PATTERN } from '../namespace/index.js';
import { parseKeyId } from '../note/key-id.js';
import { NoteVerifier } from '../note/note-verifier.js';
import { parseVkey, type Vkey } from '../note/vkey.js';
import type { RegistryPeer, RegistrySet } from './registry-set.js';

/** The peers whose signatures count towards the next version (probation and suspended peers do not). */
export function activePeers(set: RegistrySet): RegistryPeer[] {
  return set.peers.filter((p) => p.status === 'active');
}

export function peerById(set: RegistrySet, id: string): RegistryPeer | undefined {
  return set.peers.find((p) => p.id === id);
}

function tryParseVkey(vkey: string): Vkey | undefined {
  try {
    return parseVkey(vkey);
  } catch {
    return undefined;
  }
}

/**
 * The peer whose auth key is `keyIdOrVkey`: a key ID (uint32, or its eight lowercase hex digits,
 * as a request's `keyid` may carry it) or a whole vkey, which must match name and public key.
 * `keyIdOrVkey` is attacker-controlled; anything unrecognized finds no peer.
 */
export function peerByAuthKeyId(set: RegistrySet, keyIdOrVkey: number | string): RegistryPeer | undefined {
  if (typeof keyIdOrVkey === 'number') {
    return set.peers.find((p) => tryParseVkey(p.auth_key)?.keyId === keyIdOrVkey);
  }
  if (typeof keyIdOrVkey !== 'string') return undefined;
  const keyId = parseKeyId(keyIdOrVkey);
  if (keyId !== undefined) return peerByAuthKeyId(set, keyId);
  const wanted = tryParseVkey(keyIdOrVkey);
  if (wanted === undefined) return undefined;
  return set.peers.find((p) => {
    const k = tryParseVkey(p.auth_key);
    return (
      k !== undefined && k.name === wanted.name && k.type === wanted.type && bytesEqual(k.publicKey, wanted.publicKey)
    );
  });
}

/** The namespace of `origin` if it is `<peer id>/<namespace id>`, else undefined. */
function namespaceOf(peerId: string, origin: string): string | undefined {
  if (typeof origin !== 'string' || !origin.startsWith(peerId + '/')) return undefined;
  const ns = origin.slice(peerId.length + 1);
  return NAMESPACE_ID_PATTERN.test(ns) ? ns : undefined;
}

/** The peer whose logs have checkpoint origin `origin` (`<node name>/<namespace>`), if any. */
export function peerForOrigin(set: RegistrySet, origin: string): RegistryPeer | undefined {
  return set.peers.find((p) => namespaceOf(p.id, origin) !== undefined);
}

/**
 * The log key of one of the peer's namespaces: a node signs every namespace's checkpoints with the
 * key in its `log_vkey`, under the key name `<node name>/<namespace>` (the origin, as
 * https://c2sp.org/tlog-checkpoint#signatures asks). The registry lists the key once under the node
 * name; this derives the per-origin verifier, refusing origins that belong to another node.
 */
export function logVerifierForOrigin(peer: RegistryPeer, origin: string): NoteVerifier {
  if (namespaceOf(peer.id, origin) === undefined) {
    throw new RemembrancerError(
      'ORIGIN_MISMATCH',
      `origin ${JSON.stringify(String(origin).slice(0, 300))} is not "${peer.id}/<namespace id>", so peer ${JSON.stringify(peer.id)} has no log key for it`,
    );
  }
  const k = NoteVerifier.fromVkey(peer.log_vkey);
  return new NoteVerifier(origin, k.publicKey);
}

/** The Ed25519 public key of the peer's auth key. */
export function peerAuthPublicKey(peer: RegistryPeer): Uint8Array {
  return parseVkey(peer.auth_key).publicKey;
}
