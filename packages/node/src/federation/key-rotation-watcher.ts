import { CosignatureSigner, NoteSigner, peerAuthKeyName, peerWitnessKeyName } from '@vaultmesh/core';
import type { NodeIdentity } from '../config/node-config.js';
import { promoteNextKey, readNextKey, type RotatableKey } from '../identity/key-rotation.js';
import type { LogEngineLogger } from '../log/logger.js';
import type { Witness } from '../witness/witness.js';
import type { FederationRegistry } from './federation-registry.js';

export interface KeyRotationOptions {
  identity: NodeIdentity;
  registry: FederationRegistry;
  witness: Witness;
  /** Told about a new peer (auth) key, for whatever signs peer requests. */
  onPeerKey?: (seed: Uint8Array) => void;
  logger?: LogEngineLogger;
}

/**
 * Completes key rotations without a restart: as soon as the registry version in force lists the
 * public half of a prepared next key (keys/<purpose>.next.key), the node promotes it and signs
 * with it from then on. Peers accept the previous version's keys meanwhile, so nothing stops.
 */
export class KeyRotationWatcher {
  private readonly onChange = (): void => this.check();

  constructor(private readonly options: KeyRotationOptions) {
    options.registry.on('change', this.onChange);
    this.check();
  }

  /** Stops watching the registry. */
  stop(): void {
    this.options.registry.off('change', this.onChange);
  }

  check(): void {
    const { identity, registry } = this.options;
    const me = registry.peer(identity.config.name);
    if (!me) return;
    const name = identity.config.name;
    if (
      this.ready('witness', (seed) => new CosignatureSigner(peerWitnessKeyName(name), seed).vkey === me.witness_vkey)
    ) {
      const seed = promoteNextKey(identity.dataDir, 'witness');
      identity.witnessSeed = seed;
      this.options.witness.rotateKey(seed);
      this.options.logger?.info(
        { key: 'witness', vkey: me.witness_vkey },
        'rotated to the witness key of the registry in force',
      );
    }
    if (this.ready('peer', (seed) => new NoteSigner(peerAuthKeyName(name), seed).vkey === me.auth_key)) {
      const seed = promoteNextKey(identity.dataDir, 'peer');
      identity.peerSeed = seed;
      this.options.onPeerKey?.(seed);
      this.options.logger?.info({ key: 'peer', vkey: me.auth_key }, 'rotated to the peer key of the registry in force');
    }
  }

  private ready(purpose: RotatableKey, listed: (seed: Uint8Array) => boolean): boolean {
    const next = readNextKey(this.options.identity.dataDir, purpose);
    return next !== undefined && listed(next);
  }
}
