import {
  NoteSigner,
  CosignatureSigner,
  peerAuthKeyName,
  peerLogKeyName,
  peerWitnessKeyName,
  type PeerRole,
  type RegistryPeer,
} from '@vaultmesh/core';
import type { NodeIdentity } from '../config/node-config.js';
import { readNextKey } from '../identity/key-rotation.js';

/**
 * This node's public keys under the names the registry expects (see core's registry-set); with
 * `preferNext`, the keys a pending rotation (keys/*.next.key) will switch to.
 */
export function localKeys(identity: NodeIdentity, preferNext = false) {
  const name = identity.config.name;
  const witnessSeed = (preferNext && readNextKey(identity.dataDir, 'witness')) || identity.witnessSeed;
  const peerSeed = (preferNext && readNextKey(identity.dataDir, 'peer')) || identity.peerSeed;
  return {
    logVkey: new NoteSigner(peerLogKeyName(name), identity.logSeed).vkey,
    witnessVkey: new CosignatureSigner(peerWitnessKeyName(name), witnessSeed).vkey,
    authKey: new NoteSigner(peerAuthKeyName(name), peerSeed).vkey,
  };
}

/** The registry entry that describes this node, as founding or joining peers publish it. */
export function localPeerEntry(
  identity: NodeIdentity,
  roles: readonly PeerRole[] = ['log', 'witness', 'anchor'],
  preferNext = false,
): RegistryPeer {
  const keys = localKeys(identity, preferNext);
  return {
    id: identity.config.name,
    endpoint: nodeEndpoint(identity),
    log_vkey: keys.logVkey,
    witness_vkey: keys.witnessVkey,
    auth_key: keys.authKey,
    status: 'active',
    roles: [...roles],
  };
}

/** The base URL peers use to reach this node: the configured endpoint, else the listen address. */
export function nodeEndpoint(identity: NodeIdentity): string {
  return identity.config.endpoint ?? `http://${identity.config.listen}`;
}
