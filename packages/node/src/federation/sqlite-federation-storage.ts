import { RemembrancerError, type RegistrySet } from '@vaultmesh/core';
import { storageFailure } from '../storage/storage-failure.js';
import type { HeldEpochSignature, StoredCosignature, StoredEvidence } from './federation-records.js';
import type { FederationStorage } from './federation-storage.js';
import { FederationStore } from './federation-store.js';

/**
 * FederationStorage over the SQLite FederationStore (its own file, WAL, synchronous FULL). The
 * store's compound operations are transactions of their own. The store itself reports driver
 * errors as they come and knows nothing of close; here they are STORAGE_FAILURE and use after
 * close() is SHUTTING_DOWN, as on every storage.
 */
export class SqliteFederationStorage implements FederationStorage {
  #closed = false;

  constructor(readonly store: FederationStore) {}

  /** Opens (creating if missing, mode 0600) the federation file at `path`. */
  static open(path: string): SqliteFederationStorage {
    return new SqliteFederationStorage(new FederationStore(path));
  }

  async registryVersions(): Promise<RegistrySet[]> {
    return this.#call('registry read', () => this.store.registryVersions());
  }

  async latestRegistry(): Promise<RegistrySet | undefined> {
    return this.#call('registry read', () => this.store.latestRegistry());
  }

  async addRegistryVersion(set: RegistrySet, acceptedAt: string): Promise<void> {
    this.#call('registry write', () => this.store.addRegistryVersion(set, acceptedAt));
  }

  async rememberNonce(keyid: string, nonce: string, created: number, forgetBefore: number): Promise<boolean> {
    return this.#call('nonce write', () => this.store.rememberNonce(keyid, nonce, created, forgetBefore));
  }

  async addCosignature(
    origin: string,
    size: number,
    root: string,
    witness: string,
    line: string,
    timestamp: number,
  ): Promise<void> {
    this.#call('cosignature write', () => this.store.addCosignature(origin, size, root, witness, line, timestamp));
  }

  async cosignatures(origin: string, size: number, root: string): Promise<StoredCosignature[]> {
    return this.#call('cosignature read', () => this.store.cosignatures(origin, size, root));
  }

  async addEvidence(
    digest: string,
    origin: string,
    doc: unknown,
    receivedAt: string,
    registryVersion: number,
  ): Promise<boolean> {
    return this.#call('evidence write', () => this.store.addEvidence(digest, origin, doc, receivedAt, registryVersion));
  }

  async evidence(origin?: string): Promise<StoredEvidence[]> {
    return this.#call('evidence read', () => this.store.evidence(origin));
  }

  async firstEpochSignature(
    epochKey: string,
    signer: string,
    statement: unknown,
    sig: string,
    seenAtMs: number,
    forgetBeforeMs: number,
  ): Promise<HeldEpochSignature> {
    return this.#call('epoch signature write', () =>
      this.store.firstEpochSignature(epochKey, signer, statement, sig, seenAtMs, forgetBeforeMs),
    );
  }

  async markEvidenceDelivered(digest: string, peer: string, deliveredAt: string): Promise<void> {
    this.#call('evidence delivery write', () => this.store.markEvidenceDelivered(digest, peer, deliveredAt));
  }

  async evidenceDeliveries(digest: string): Promise<string[]> {
    return this.#call('evidence delivery read', () => this.store.evidenceDeliveries(digest));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.store.close();
  }

  /** fn on the open store; a driver error becomes STORAGE_FAILURE (typed errors such as REGISTRY_STALE pass). */
  #call<T>(what: string, fn: () => T): T {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'federation database is closed');
    try {
      return fn();
    } catch (cause) {
      throw storageFailure(`federation ${what} failed`, cause);
    }
  }
}
