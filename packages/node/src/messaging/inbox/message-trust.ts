import {
  CosignatureVerifier,
  NoteVerifier,
  errorMessage,
  logVerifierForOrigin,
  type MessageEndpoint,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import type { FederationRegistry } from '../../federation/federation-registry.js';
import type { LogEngine } from '../../log/log-engine.js';

/** The keys a receiver checks one source's proofs with (verifyMessageProof's logVerifiers and witnessVerifiers). */
export interface SourceTrust {
  logVerifiers: readonly NoteVerifier[];
  witnessVerifiers: readonly CosignatureVerifier[];
}

export interface MessageTrustOptions {
  /** This node's name: a source on it is checked with the node's own log key, registry or not. */
  nodeName: string;
  engine: LogEngine;
  /** Absent: no federation; only this node's own namespaces can send, with no witnesses. */
  registry?: FederationRegistry;
  logger?: { warn(obj: object, msg: string): void };
}

/**
 * Who vouches for a message's source checkpoint (issue 12, item 3): the source node's log key —
 * its registry entry's `log_vkey` under the origin's name, or, for a namespace of this very node,
 * the key the engine signs that namespace with — and the witness keys of the registry's peers
 * other than the source node (a node cannot witness its own log), each under the version in force
 * and the one before it while a key rotation spreads. A suspended peer neither sends nor witnesses.
 *
 * Verifiers are built once per registry version and reused: each keeps a cache of the signatures
 * it verified, so the many messages that travel under one checkpoint cost one verification.
 */
export class MessageTrust {
  #registry: RegistrySet | undefined;
  #logKeys = new Map<string, NoteVerifier[]>();
  #witnesses = new Map<string, CosignatureVerifier[]>();

  constructor(private readonly options: MessageTrustOptions) {}

  for(source: MessageEndpoint): SourceTrust {
    this.refresh();
    return { logVerifiers: this.logVerifiers(source), witnessVerifiers: this.witnessVerifiers(source.node) };
  }

  /** Drops every cached verifier when the registry version in force changed. */
  private refresh(): void {
    const latest = this.options.registry?.latest();
    if (latest === this.#registry) return;
    this.#registry = latest;
    this.#logKeys = new Map();
    this.#witnesses = new Map();
  }

  private logVerifiers(source: MessageEndpoint): NoteVerifier[] {
    const origin = `${source.node}/${source.namespace}`;
    const cached = this.#logKeys.get(origin);
    if (cached) return cached;
    const keys: NoteVerifier[] = [];
    if (source.node === this.options.nodeName) {
      const own = this.options.engine.getNamespace(source.namespace);
      if (own) keys.push(NoteVerifier.fromVkey(own.logVkey));
    } else {
      for (const peer of this.options.registry?.peerAcrossRotation(source.node) ?? []) {
        if (peer.status === 'suspended') continue;
        const key = this.verifierOf(() => logVerifierForOrigin(peer, origin), peer, 'log_vkey');
        if (key) keys.push(key);
      }
    }
    // Only namespaces that exist are remembered: a missing own namespace may be created later.
    if (keys.length > 0) this.#logKeys.set(origin, keys);
    return keys;
  }

  private witnessVerifiers(sourceNode: string): CosignatureVerifier[] {
    const cached = this.#witnesses.get(sourceNode);
    if (cached) return cached;
    const keys: CosignatureVerifier[] = [];
    const seen = new Set<string>();
    for (const peer of this.#registry?.peers ?? []) {
      if (peer.id === sourceNode || peer.status === 'suspended' || !peer.roles.includes('witness')) continue;
      for (const entry of this.options.registry?.peerAcrossRotation(peer.id) ?? []) {
        if (seen.has(entry.witness_vkey)) continue;
        seen.add(entry.witness_vkey);
        const key = this.verifierOf(() => CosignatureVerifier.fromVkey(entry.witness_vkey), entry, 'witness_vkey');
        if (key) keys.push(key);
      }
    }
    this.#witnesses.set(sourceNode, keys);
    return keys;
  }

  /** A registry key that does not parse counts for nothing (the registry was verified; this is belt and braces). */
  private verifierOf<T>(make: () => T, peer: RegistryPeer, what: string): T | undefined {
    try {
      return make();
    } catch (e) {
      this.options.logger?.warn({ peer: peer.id, err: errorMessage(e) }, `registry ${what} is unusable`);
      return undefined;
    }
  }
}
