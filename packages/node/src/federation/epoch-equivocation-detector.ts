import {
  buildEpochEquivocationEvidence,
  canonicalize,
  epochStatementConflict,
  errorMessage,
  parseEpochStatement,
  peerAuthPublicKey,
  peerById,
  verifyEpochStatementSignature,
  type EpochStatement,
  type RegistrySet,
} from '@vaultmesh/core';
import type { LogEngineLogger } from '../log/logger.js';
import { epochEvidenceKey, type EvidenceLedger } from './evidence-ledger.js';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStorage } from './federation-storage.js';

/** A signature on an epoch statement as peers hand them around (attacker-controlled). */
export interface SeenEpochSignature {
  readonly node: unknown;
  readonly sig: unknown;
}

/** What the anchoring side asks of equivocation detection (EpochSigner holds one). */
export interface EpochSignatureWatch {
  /**
   * Remembers every valid peer signature on the statement; a second root of one signer becomes
   * evidence. Returns at once: what is remembered is stored, and evidence reported, in the background.
   */
  observe(statement: unknown, signatures: readonly SeenEpochSignature[]): void;
  /** Nodes proven to have signed two roots for the statement's epoch: their signatures on it do not count. */
  offenders(statement: EpochStatement): ReadonlySet<string>;
}

export interface EpochEquivocationDetectorOptions {
  self: string;
  registry: FederationRegistry;
  ledger: EvidenceLedger;
  store: FederationStorage;
  /** How long a first signature is remembered, ms (default 7 days: epochs are decided long before). */
  rememberMs?: number;
  now?: () => Date;
  logger?: LogEngineLogger;
}

/**
 * Epoch equivocation detection (issue 10, item 5). An honest node signs at most one root per
 * epoch; this node remembers, on disk, the first valid signature each peer was seen to give per
 * epoch — in signature answers to this node as leader, in the signed roots peers report to a
 * failover leader, in finalized epochs pushed or adopted — and when the same peer's valid
 * signature on a different root of that epoch shows up, it signs `federation.epoch.equivocation`
 * evidence into the ledger, which stores, serves and pushes it like checkpoint evidence.
 */
export class EpochEquivocationDetector implements EpochSignatureWatch {
  readonly #o: EpochEquivocationDetectorOptions;
  readonly #now: () => Date;
  readonly #rememberMs: number;
  /**
   * The comparisons observed and not yet done, one at a time in the order observed: of two
   * signatures of one signer on two roots of an epoch, the second must find the first stored and
   * the evidence it made held (epochOffenders), or it would make a second proof — which the
   * synchronous store could not have let happen.
   */
  #comparing: Promise<void> = Promise.resolve();

  constructor(options: EpochEquivocationDetectorOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
    this.#rememberMs = options.rememberMs ?? 7 * 24 * 3_600_000;
  }

  observe(statementJson: unknown, signatures: readonly SeenEpochSignature[]): void {
    let statement: EpochStatement;
    try {
      statement = parseEpochStatement(statementJson);
    } catch {
      return; // not a statement: it proves nothing about anyone
    }
    const registry = this.#versionOf(statement.federation_id, statement.registry_version);
    if (registry === undefined || !Array.isArray(signatures)) return;
    for (const entry of signatures) {
      const node = (entry as SeenEpochSignature | null)?.node;
      const sig = (entry as SeenEpochSignature | null)?.sig;
      if (typeof node !== 'string' || typeof sig !== 'string' || node === this.#o.self) continue;
      const peer = peerById(registry, node);
      // Only a valid signature is remembered: anyone could make up the rest.
      if (peer === undefined || !verifyEpochStatementSignature(statement, peerAuthPublicKey(peer), sig)) continue;
      this.#comparing = this.#comparing
        .then(() => this.#compare(statement, node, sig))
        .catch((e: unknown) =>
          this.#o.logger?.error({ signer: node, err: errorMessage(e) }, 'checking an epoch signature failed'),
        );
    }
  }

  /** Resolves once every signature observed so far has been compared (and any evidence it made reported). */
  settled(): Promise<void> {
    return this.#comparing;
  }

  offenders(statement: EpochStatement): ReadonlySet<string> {
    return this.#o.ledger.epochOffenders(statement);
  }

  #versionOf(federationId: string, version: number): RegistrySet | undefined {
    return this.#o.registry.versions().find((r) => r.federation_id === federationId && r.version === version);
  }

  async #compare(statement: EpochStatement, signer: string, sig: string): Promise<void> {
    const now = this.#now();
    const key = epochEvidenceKey(statement);
    const first = await this.#o.store.firstEpochSignature(
      key,
      signer,
      statement,
      sig,
      now.getTime(),
      now.getTime() - this.#rememberMs,
    );
    if (canonicalize(first.statement) === canonicalize(statement)) return;
    const held = parseEpochStatement(first.statement);
    if (epochStatementConflict(held, statement) === undefined) return; // e.g. one root under two registry versions
    if (this.#o.ledger.epochOffenders(statement).has(signer)) return; // one proof per signer and epoch is enough
    const heldPeer = peerById(this.#versionOf(held.federation_id, held.registry_version)!, signer)!;
    const peer = peerById(this.#versionOf(statement.federation_id, statement.registry_version)!, signer)!;
    const accepted = await this.#o.ledger.reportEpoch(
      buildEpochEquivocationEvidence({
        detectedBy: this.#o.self,
        detectedAt: now.toISOString(),
        signer,
        first: { statement: held, sig: first.sig },
        second: { statement, sig },
        signerPublicKeys: [peerAuthPublicKey(heldPeer), peerAuthPublicKey(peer)],
      }),
    );
    this.#o.logger?.warn(
      {
        signer,
        target: statement.target,
        epoch: statement.epoch,
        roots: [held.root, statement.root],
        digest: accepted.digest,
      },
      'epoch equivocation detected: a node signed two roots for one epoch',
    );
  }
}
