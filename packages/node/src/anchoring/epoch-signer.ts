import {
  RemembrancerError,
  anchorSigners,
  signEpochStatement,
  type EpochStatement,
  type RegistrySet,
} from '@vaultmesh/core';
import type { AnchoringConfig } from '../config/anchoring-config.js';
import type { EpochSignatureWatch, SeenEpochSignature } from '../federation/epoch-equivocation-detector.js';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { PeerCredentials } from '../federation/peer-client.js';
import type { SignedRoot } from './anchor-records.js';
import type { AnchorStorage } from './anchor-storage.js';
import { checkProposal, type CheckedProposal } from './epoch-proposal.js';

/** A signature this node gave, as the signing peer route answers it. */
export interface GivenSignature {
  node: string;
  sig: string;
  signed_at: string;
  /** The statement signed (equal to the one asked for). */
  root: string;
}

export interface EpochSignerOptions {
  self: string;
  registry: FederationRegistry;
  store: AnchorStorage;
  /** This node's auth key (updated in place on key rotation). */
  creds: PeerCredentials;
  config: AnchoringConfig;
  now: () => number;
  /** Equivocation detection over the peers' epoch signatures (absent: none). */
  watch?: EpochSignatureWatch;
}

/**
 * Signs epoch roots (issue 10, item 5): at most one root per (target, epoch, mode), recorded on
 * disk before the signature is returned, so a restart cannot make this node sign a second one.
 * Asked again for the root it signed, it answers the same signature (a failover leader gathers
 * the same quorum); asked for another, it refuses with EPOCH_CONFLICT.
 */
export class EpochSigner {
  readonly #o: EpochSignerOptions;

  constructor(options: EpochSignerOptions) {
    this.#o = options;
  }

  /** The registry version in force; anchoring waits while there is none. */
  registry(): RegistrySet {
    const reg = this.#o.registry.latest();
    if (reg === undefined) throw new RemembrancerError('EPOCH_REFUSED', 'this node has no federation registry');
    return reg;
  }

  /** Checks a proposal from a peer (or this node's own, as leader) and signs it. */
  async sign(statementJson: unknown, leavesJson: unknown): Promise<GivenSignature> {
    const registry = this.registry();
    const targetId = (statementJson as { target?: unknown } | null)?.target;
    const target = typeof targetId === 'string' ? this.#o.config.targets.get(targetId) : undefined;
    if (target === undefined) {
      throw new RemembrancerError(
        'ANCHOR_TARGET_UNKNOWN',
        `this node has no anchor target ${JSON.stringify(String(targetId).slice(0, 100))} configured`,
      );
    }
    const checked = checkProposal(statementJson, leavesJson, {
      registry,
      target,
      nowMs: this.#o.now(),
      maxClockSkewMs: this.#o.config.maxClockSkewMs,
    });
    this.#mayAttest(checked, registry);
    return this.signChecked(checked);
  }

  #mayAttest(p: CheckedProposal, registry: RegistrySet): void {
    const { statement } = p;
    if (statement.mode === 'independent') {
      // Another node's solo epoch is its own business: only it signs.
      if (statement.node !== this.#o.self)
        throw new RemembrancerError(
          'EPOCH_REFUSED',
          `independent epochs are signed by their node only (${statement.node})`,
        );
      return;
    }
    if (!anchorSigners(registry).some((p) => p.id === this.#o.self))
      throw new RemembrancerError('EPOCH_REFUSED', `${this.#o.self} is not an active anchor peer of the registry`);
  }

  /**
   * Peers' signatures on a statement, as they reach this node (attacker-controlled): each valid
   * one is remembered, and a peer's second root for one epoch becomes equivocation evidence.
   */
  observePeerSignatures(statement: unknown, signatures: readonly SeenEpochSignature[]): void {
    this.#o.watch?.observe(statement, signatures);
  }

  /**
   * The signatures that may count towards the statement's quorum: none by a node with evidence
   * held that it signed another root for this epoch (whichever root it signed first).
   */
  countable<T extends { node: string }>(statement: EpochStatement, signatures: readonly T[]): T[] {
    const offenders = this.#o.watch?.offenders(statement);
    return offenders === undefined || offenders.size === 0
      ? [...signatures]
      : signatures.filter((s) => !offenders.has(s.node));
  }

  /**
   * Signs an already checked proposal, under the one-root-per-epoch rule: recordSignedRoot is an
   * insert-if-absent, so of two requests racing for one epoch (front ends included) one root wins
   * and the other request is answered with it (or refused).
   */
  async signChecked(p: CheckedProposal): Promise<GivenSignature> {
    const { statement } = p;
    const held = await this.#o.store.signedRoot(statement.target, statement.epoch, statement.mode);
    const recorded: SignedRoot =
      held ??
      (await this.#o.store.recordSignedRoot({
        statement,
        leaves: p.leaves,
        sig: signEpochStatement(statement, this.#o.creds.seed),
        signedAt: new Date(this.#o.now()).toISOString(),
      }));
    if (
      recorded.statement.root !== statement.root ||
      recorded.statement.registry_version !== statement.registry_version
    ) {
      throw new RemembrancerError(
        'EPOCH_CONFLICT',
        `${this.#o.self} signed root ${recorded.statement.root} (registry version ${recorded.statement.registry_version}) for epoch ${statement.epoch} at ${statement.target} already; it signs one root per epoch`,
      );
    }
    return { node: this.#o.self, sig: recorded.sig, signed_at: recorded.signedAt, root: recorded.statement.root };
  }
}
