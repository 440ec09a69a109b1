import {
  RemembrancerError,
  base64Encode,
  parseSignatureLine,
  parseVkey,
  peerById,
  peerForOrigin,
  type RegistrySet,
} from '@vaultmesh/core';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { FederationStorage } from '../federation/federation-storage.js';
import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../log/log-engine.js';
import { namespacePolicyText, type NamespacePolicyWitness } from './sealing-policy-text.js';

/**
 * A namespace's witness requirement (issue 4): a checkpoint is sealed once at least `min_required`
 * distinct peers of `allowlist` (peer ids, i.e. federation node names) cosigned it.
 */
export interface WitnessPolicy {
  readonly min_required: number;
  readonly allowlist: readonly string[];
}

/** Whether one checkpoint is sealed, by which policy, and which allowlisted peers counted. */
export interface SealState {
  sealed: boolean;
  min_required: number;
  allowlist: string[];
  /** Allowlisted peers holding a valid cosignature on exactly this checkpoint, each once, in allowlist order. */
  cosigners: string[];
}

export interface SealedCheckpoint {
  checkpoint: PublishedCheckpoint;
  state: SealState;
}

/** What the HTTP routes need to know about sealing (SealedCheckpoints, or LogSignatureSealing without a federation). */
export interface Sealing {
  sealState(ns: NamespaceRecord, cp: PublishedCheckpoint): Promise<SealState>;
  /** The newest sealed checkpoint of the namespace, if any is known (older ones are read from storage). */
  latestSealed(ns: NamespaceRecord): Promise<SealedCheckpoint | undefined>;
  /** The namespace's witness policy as C2SP tlog-policy text. */
  policyText(ns: NamespaceRecord): string;
  /**
   * Calls `listener` when what latestSealed answers may have changed other than by a new
   * checkpoint (cosignatures arrived): with the namespace id, or undefined for every namespace.
   * Returns the unsubscribe function. Absent: sealing changes only with checkpoints.
   */
  onChange?(listener: (nsId: string | undefined) => void): () => void;
}

export interface SealedCheckpointsOptions {
  engine: LogEngine;
  registry: FederationRegistry;
  /** Holds only cosignatures that verified against a registered witness key when they arrived. */
  store: FederationStorage;
  /** The namespace's policy; undefined (a namespace the directory does not know) counts as k = 0. */
  witnessPolicy(nsId: string): WitnessPolicy | undefined;
  /** This node's base URL for the policy's log line (default: its registry endpoint, if listed). */
  nodeUrl?: () => string | undefined;
  /** How many of the newest retained checkpoints latestSealed looks through (default 64). */
  scanLimit?: number;
}

const NO_POLICY: WitnessPolicy = { min_required: 0, allowlist: [] };

interface CacheEntry {
  /** Latest checkpoint size, its counted cosigners, registry version, policy: when all match, the answer holds. */
  key: string;
  /** Registry version and policy only: a checkpoint sealed under them stays sealed (cosignatures are only added). */
  basis: string;
  sealed: SealedCheckpoint | undefined;
}

/**
 * Decides which checkpoints are sealed (issue 4, "witness requirements"). A cosignature counts
 * when the federation store holds it for exactly that checkpoint (origin, size and root), its
 * witness is allowlisted by the namespace, and the peer is in the registry version in force, not
 * suspended, with the witness key that made the cosignature (name and key ID of its signature
 * line): the very keys policyText lists, so an offline verifier holding the served policy reaches
 * the same verdict. Each peer counts once; anything else counts for nothing.
 */
export class SealedCheckpoints implements Sealing {
  private readonly scanLimit: number;
  private readonly cache = new Map<string, CacheEntry>();
  /** Counts invalidate() calls: a scan that awaited history across one does not cache its answer. */
  private invalidations = 0;
  /** vkey text → (key name, key ID), so registry keys are parsed once. */
  private readonly keyIds = new Map<string, { name: string; keyId: number } | null>();
  private readonly changeListeners = new Set<(nsId: string | undefined) => void>();

  constructor(private readonly options: SealedCheckpointsOptions) {
    this.scanLimit = options.scanLimit ?? 64;
    if (!Number.isSafeInteger(this.scanLimit) || this.scanLimit < 1)
      throw new RemembrancerError('INVALID_ARGUMENT', 'scanLimit must be a positive integer');
  }

  /** The namespace's policy, allowlist deduplicated; invalid policies are refused, not guessed at. */
  policy(nsId: string): WitnessPolicy {
    const p = this.options.witnessPolicy(nsId) ?? NO_POLICY;
    if (
      !Number.isSafeInteger(p.min_required) ||
      p.min_required < 0 ||
      !Array.isArray(p.allowlist) ||
      !p.allowlist.every((id) => typeof id === 'string')
    ) {
      throw new RemembrancerError('POLICY_INVALID', `namespace '${nsId}' has an invalid witness policy`);
    }
    return { min_required: p.min_required, allowlist: [...new Set(p.allowlist)] };
  }

  async sealState(ns: NamespaceRecord, cp: PublishedCheckpoint): Promise<SealState> {
    return this.stateWith(ns, cp, this.policy(ns.id), this.options.registry.latest());
  }

  async latestSealed(ns: NamespaceRecord): Promise<SealedCheckpoint | undefined> {
    const latest = this.options.engine.latestCheckpoint(ns.id);
    if (!latest) return undefined;
    const policy = this.policy(ns.id);
    const registry = this.options.registry.latest();
    const invalidations = this.invalidations;
    const latestState = await this.stateWith(ns, latest, policy, registry);
    const basis = `${registry?.version ?? 0}\n${policy.min_required}\n${policy.allowlist.join('\n')}`;
    const key = `${latest.size}\n${latestState.cosigners.join(',')}\n${basis}`;
    if (latestState.sealed) {
      const sealed = { checkpoint: latest, state: latestState };
      this.cache.set(ns.id, { key, basis, sealed });
      return sealed;
    }
    const cached = this.cache.get(ns.id);
    if (cached && cached.key === key) return cached.sealed;
    // Only checkpoints newer than the one found sealed before need a look; the scan is bounded
    // so a namespace whose witnesses are long gone does not cost a walk through all history.
    const floor = cached && cached.basis === basis ? cached.sealed : undefined;
    let found: SealedCheckpoint | undefined;
    const history = await this.options.engine.checkpointHistory(ns.id, this.scanLimit);
    for (let i = history.length - 1; i >= 0; i--) {
      const cp = history[i]!;
      if (cp.size >= latest.size) continue;
      if (floor && cp.size <= floor.checkpoint.size) break;
      const state = await this.stateWith(ns, cp, policy, registry);
      if (state.sealed) {
        found = { checkpoint: cp, state };
        break;
      }
    }
    found ??= floor && {
      checkpoint: floor.checkpoint,
      state: await this.stateWith(ns, floor.checkpoint, policy, registry),
    };
    if (invalidations === this.invalidations) this.cache.set(ns.id, { key, basis, sealed: found });
    return found;
  }

  /** Forgets what latestSealed found (all namespaces, or one): e.g. after cosignatures of older checkpoints arrived. */
  invalidate(nsId?: string): void {
    this.invalidations++;
    if (nsId === undefined) this.cache.clear();
    else this.cache.delete(nsId);
    for (const listener of this.changeListeners) listener(nsId);
  }

  onChange(listener: (nsId: string | undefined) => void): () => void {
    const entry = (nsId: string | undefined) => listener(nsId);
    this.changeListeners.add(entry);
    return () => this.changeListeners.delete(entry);
  }

  policyText(ns: NamespaceRecord): string {
    const policy = this.policy(ns.id);
    const registry = this.options.registry.latest();
    const witnesses: NamespacePolicyWitness[] = [];
    const notCounted: Array<{ id: string; why: string }> = [];
    for (const id of policy.allowlist) {
      const peer = registry ? peerById(registry, id) : undefined;
      if (!peer) notCounted.push({ id, why: 'not in the federation registry' });
      else if (peer.status === 'suspended') notCounted.push({ id, why: 'suspended' });
      // The witness's tlog-witness submission prefix (https://c2sp.org/tlog-policy#defining-a-witness).
      else witnesses.push({ id, vkey: peer.witness_vkey, url: `${peer.endpoint.replace(/\/+$/, '')}/v1/witness` });
    }
    const logUrl = this.options.nodeUrl?.() ?? (registry ? peerForOrigin(registry, ns.origin)?.endpoint : undefined);
    return namespacePolicyText({
      ns,
      minRequired: policy.min_required,
      witnesses,
      notCounted,
      ...(logUrl === undefined ? {} : { logUrl }),
    });
  }

  private async stateWith(
    ns: NamespaceRecord,
    cp: PublishedCheckpoint,
    policy: WitnessPolicy,
    registry: RegistrySet | undefined,
  ): Promise<SealState> {
    const counted = new Set<string>();
    if (policy.allowlist.length > 0 && registry) {
      const allow = new Set(policy.allowlist);
      for (const row of await this.options.store.cosignatures(ns.origin, cp.size, base64Encode(cp.root))) {
        if (!allow.has(row.witness) || counted.has(row.witness)) continue;
        const peer = peerById(registry, row.witness);
        if (!peer || peer.status === 'suspended') continue;
        if (!this.signedWith(row.line, peer.witness_vkey)) continue;
        counted.add(row.witness);
      }
    }
    const cosigners = policy.allowlist.filter((id) => counted.has(id));
    return {
      sealed: cosigners.length >= policy.min_required,
      min_required: policy.min_required,
      allowlist: [...policy.allowlist],
      cosigners,
    };
  }

  /** Whether a stored signature line names the key `vkey` (its signature verified when stored). */
  private signedWith(line: string, vkey: string): boolean {
    let id = this.keyIds.get(vkey);
    if (id === undefined) {
      try {
        const k = parseVkey(vkey);
        id = { name: k.name, keyId: k.keyId };
      } catch {
        id = null;
      }
      if (this.keyIds.size > 4096) this.keyIds.clear();
      this.keyIds.set(vkey, id);
    }
    if (id === null) return false;
    try {
      const sig = parseSignatureLine(line.endsWith('\n') ? line.slice(0, -1) : line);
      return sig.name === id.name && sig.keyId === id.keyId;
    } catch {
      return false;
    }
  }
}
