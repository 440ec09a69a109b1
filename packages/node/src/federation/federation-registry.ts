import { EventEmitter } from 'node:events';
import {
  RemembrancerError,
  activePeers,
  canonicalize,
  isRemembrancerError,
  parseRegistry,
  peerById,
  verifyGenesis,
  verifyRegistryTransition,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import type { FederationStorage } from './federation-storage.js';

/**
 * The registry version in force on this node. Every version offered (by an operator or a peer) is
 * verified against the latest accepted one before it is stored; nothing else changes membership.
 * Every accepted version is held in memory too (loaded at open, added by offer): the registry is
 * read on every peer request and witness check, and only offer() writes it.
 */
export class FederationRegistry extends EventEmitter<{ change: [RegistrySet] }> {
  #all: RegistrySet[] = [];
  /** The offer under way: offers run one at a time (see offer). */
  #offering: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly store: FederationStorage,
    private readonly now: () => Date,
  ) {
    super();
  }

  /** Loads every accepted version from the storage. */
  static async open(store: FederationStorage, now: () => Date = () => new Date()): Promise<FederationRegistry> {
    const registry = new FederationRegistry(store, now);
    registry.#all = await store.registryVersions();
    return registry;
  }

  latest(): RegistrySet | undefined {
    return this.#all.at(-1);
  }

  /** The version before the one in force (key rotations accept its keys while they spread). */
  previousVersion(): RegistrySet | undefined {
    return this.#all.at(-2);
  }

  /** Every version accepted, oldest first. */
  versions(): RegistrySet[] {
    return [...this.#all];
  }

  /**
   * Attacker-controlled when it comes from a peer: parsed, then verified as genesis (no version
   * yet) or as the successor of the latest version. Resolves false for the version already held.
   * Offers run one at a time, in call order: each is checked against the version the previous one
   * left in force, as when offers could not interleave (two offers of one version: one stores it,
   * the other finds it held; of versions 2 and 3: 3 follows 2).
   */
  offer(json: unknown): Promise<boolean> {
    const run = this.#offering.then(() => this.#offer(json));
    this.#offering = run.catch(() => undefined);
    return run;
  }

  /**
   * Takes the versions as stored, for versions another front end of a shared database accepted
   * (gossip calls it every round); listeners hear of a new version in force. In line with offers.
   */
  refresh(): Promise<void> {
    const run = this.#offering.then(() => this.#reload());
    this.#offering = run.catch(() => undefined);
    return run;
  }

  async #offer(json: unknown): Promise<boolean> {
    const set = parseRegistry(json);
    const cur = this.latest();
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
    try {
      await this.store.addRegistryVersion(set, this.now().toISOString());
    } catch (e) {
      if (!isRemembrancerError(e) || e.code !== 'REGISTRY_STALE') throw e;
      // Another front end of the database stored this version first: take the versions as
      // stored, and answer as for a version held (or refuse a different document of that number).
      await this.#reload();
      const held = this.#all.find((v) => v.version === set.version);
      if (held !== undefined && canonicalize(held) === canonicalize(set)) return false;
      throw e;
    }
    this.#all.push(set);
    this.emit('change', set);
    return true;
  }

  /** Takes the versions as stored (another front end added some); tells listeners if the version in force changed. */
  async #reload(): Promise<void> {
    const before = this.latest()?.version;
    const stored = await this.store.registryVersions();
    // Never fewer than held: versions are only added (a storage answering fewer would be a fault).
    if (stored.length < this.#all.length) return;
    this.#all = stored;
    const latest = this.latest();
    if (latest !== undefined && latest.version !== before) this.emit('change', latest);
  }

  peer(id: string): RegistryPeer | undefined {
    const cur = this.latest();
    return cur ? peerById(cur, id) : undefined;
  }

  /**
   * The peer's entries in the version in force and the one before it: while a key rotation is being
   * applied across the federation, signatures by either key are accepted, so nothing stops.
   */
  peerAcrossRotation(id: string): RegistryPeer[] {
    const out: RegistryPeer[] = [];
    const current = this.latest();
    const previous = this.previousVersion();
    const cur = current ? peerById(current, id) : undefined;
    if (cur) out.push(cur);
    const prev = previous ? peerById(previous, id) : undefined;
    if (prev && prev.status !== 'suspended' && cur && cur.status !== 'suspended') out.push(prev);
    return out;
  }

  /** Active peers other than this node. */
  activeOthers(self: string): RegistryPeer[] {
    const cur = this.latest();
    return cur ? activePeers(cur).filter((p) => p.id !== self) : [];
  }
}
