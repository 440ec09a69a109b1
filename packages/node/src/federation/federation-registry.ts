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
  private previous: RegistrySet | undefined;

  constructor(
    private readonly store: FederationStore,
    private readonly now: () => Date = () => new Date(),
  ) {
    super();
    const all = store.registryVersions();
    this.current = all.at(-1);
    this.previous = all.at(-2);
  }

  latest(): RegistrySet | undefined {
    return this.current;
  }

  /** The version before the one in force (key rotations accept its keys while they spread). */
  previousVersion(): RegistrySet | undefined {
    return this.previous;
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
      throw new RemembrancerError(
        'REGISTRY_STALE',
        `registry version ${set.version} is older than the version in force (${cur.version})`,
      );
    }
    if (!cur) {
      if (set.version !== 1)
        throw new RemembrancerError(
          'REGISTRY_INVALID',
          `this node holds no registry yet; it needs genesis (version 1), not version ${set.version}`,
        );
      verifyGenesis(set);
    } else {
      verifyRegistryTransition(cur, set);
    }
    this.store.addRegistryVersion(set, this.now().toISOString());
    this.previous = cur;
    this.current = set;
    this.emit('change', set);
    return true;
  }

  peer(id: string): RegistryPeer | undefined {
    return this.current ? peerById(this.current, id) : undefined;
  }

  /**
   * The peer's entries in the version in force and the one before it: while a key rotation is being
   * applied across the federation, signatures by either key are accepted, so nothing stops.
   */
  peerAcrossRotation(id: string): RegistryPeer[] {
    const out: RegistryPeer[] = [];
    const cur = this.current ? peerById(this.current, id) : undefined;
    if (cur) out.push(cur);
    const prev = this.previous ? peerById(this.previous, id) : undefined;
    if (prev && prev.status !== 'suspended' && cur && cur.status !== 'suspended') out.push(prev);
    return out;
  }

  /** Active peers other than this node. */
  activeOthers(self: string): RegistryPeer[] {
    return this.current ? activePeers(this.current).filter((p) => p.id !== self) : [];
  }
}
