import { EventEmitter } from 'node:events';
import {
  RemembrancerError,
  activePeers,
  parseRegistry,
  peerById,
  verifyGenesis,
  verifyRegistryTransition,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import type { FederationStore } from './federation-store.js';

/**
 * The registry version in force on this node. Every version offered (by an operator or a peer) is
 * verified against the latest accepted one before it is stored; nothing else changes membership.
 */
export class FederationRegistry extends EventEmitter<{ change: [RegistrySet] }> {
  private current: RegistrySet | undefined;

  constructor(
    private readonly store: FederationStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
    this.current = store.latestRegistry();
  }

  latest(): RegistrySet | undefined {
    return this.current;
  }

  versions(): RegistrySet[] {
    return this.store.registryVersions();
  }

  /**
   * Attacker-controlled when it comes from a peer: parsed, then verified as genesis (no version
   * yet) or as the successor of the latest version. Returns false for the version already held.
   */
  offer(json: unknown): boolean {
    const set = parseRegistry(json);
    const cur = this.current;
    if (cur && set.version <= cur.version) {
      if (set.version === cur.version) return false;
      throw new RemembrancerError('REGISTRY_STALE', `registry version ${set.version} is older than the version in force (${cur.version})`);
    }
    if (!cur) {
      if (set.version !== 1) throw new RemembrancerError('REGISTRY_INVALID', `this node holds no registry yet; it needs genesis (version 1), not version ${set.version}`);
      verifyGenesis(set);
    } else {
      verifyRegistryTransition(cur, set);
    }
    this.store.addRegistryVersion(set, this.now().toISOString());
    this.current = set;
    this.emit('change', set);
    return true;
  }

  peer(id: string): RegistryPeer | undefined {
    return this.current ? peerById(this.current, id) : undefined;
  }

  /** Active peers other than this node. */
  activeOthers(self: string): RegistryPeer[] {
    return this.current ? activePeers(this.current).filter((p) => p.id !== self) : [];
  }
}
