import {
  RemembrancerError,
  base64Encode,
  buildEpochTree,
  buildFederationReceipt,
  type FederationReceipt,
  type RegistrySet,
} from '@vaultmesh/core';
import type { Logger } from 'pino';
import type { AnchoringConfig } from '../config/anchoring-config.js';
import type { EpochSignatureWatch } from '../federation/epoch-equivocation-detector.js';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { PeerCredentials } from '../federation/peer-client.js';
import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../log/log-engine.js';
import type { CadenceScheduler } from '../namespaces/cadence-scheduler.js';
import type { Sealing, WitnessPolicy } from '../namespaces/sealing.js';
import type { EpochMode, EpochRecord } from './anchor-records.js';
import type { AnchorStorage } from './anchor-storage.js';
import { anchoringStatus, type AnchoringStatus } from './anchoring-status.js';
import type { EpochOutcome } from './anchor-peer-client.js';
import { EpochCoordinator, type AnchorTarget } from './epoch-coordinator.js';
import type { EpochFinalization } from './epoch-finalization.js';
import { EpochSigner, type GivenSignature } from './epoch-signer.js';
import { LocalLeaves } from './local-leaves.js';

/** One anchor of an entry, as `GET /v1/ns/{ns}/receipt/{i}?anchored=1` lists it. */
export interface EntryAnchor {
  federation_receipt: FederationReceipt;
  /**
   * RFC 9162 consistency proof between the entry receipt's checkpoint and the anchored one
   * (from the smaller size to the larger), absent when they are the same checkpoint.
   */
  consistency?: { from: number; to: number; proof: string[] };
}

export interface AnchoringServiceOptions {
  /** The anchoring state (openAnchorStorage); the service closes it. */
  storage: AnchorStorage;
  self: string;
  config: AnchoringConfig;
  registry: FederationRegistry;
  engine: LogEngine;
  sealing: Sealing;
  cadence: CadenceScheduler;
  checkpointNote(origin: string, cp: PublishedCheckpoint): string | Promise<string>;
  witnessPolicy(nsId: string): WitnessPolicy | undefined;
  creds: PeerCredentials;
  /** The configured targets, ready to anchor (rfc3161-anchor-target.ts makes them from the config). */
  targets: ReadonlyMap<string, AnchorTarget>;
  now?: () => number;
  logger?: Logger;
  onFinalized?: (f: EpochFinalization, outcome: 'new' | 'same' | 'duplicate') => void;
  /** Equivocation detection over peers' epoch signatures (EpochEquivocationDetector). */
  watch?: EpochSignatureWatch;
}

/**
 * The anchoring of one node (issue 10): its storage, its share of leaves, its signer and the epoch
 * coordinator, and what the HTTP routes ask of them.
 */
export class AnchoringService {
  readonly store: AnchorStorage;
  readonly leaves: LocalLeaves;
  readonly signer: EpochSigner;
  readonly coordinator: EpochCoordinator;
  readonly #o: AnchoringServiceOptions;
  readonly #now: () => number;
  #unsubscribe: (() => void) | undefined;

  constructor(options: AnchoringServiceOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.store = options.storage;
    this.leaves = new LocalLeaves({
      engine: options.engine,
      sealing: options.sealing,
      store: this.store,
      checkpointNote: (origin, cp) => options.checkpointNote(origin, cp),
      witnessPolicy: (ns) => options.witnessPolicy(ns),
      isConfigured: (t) => options.config.targets.has(t),
      // Only while subscribed: a tick before start() would commit due events nobody hears.
      catchUp: async () => {
        if (this.#unsubscribe !== undefined) await options.cadence.tick();
      },
      onError: (error) => options.logger?.error({ err: error }, 'anchoring: handling a cadence due event failed'),
    });
    this.signer = new EpochSigner({
      self: options.self,
      registry: options.registry,
      store: this.store,
      creds: options.creds,
      config: options.config,
      now: this.#now,
      ...(options.watch ? { watch: options.watch } : {}),
    });
    this.coordinator = new EpochCoordinator({
      self: options.self,
      registry: options.registry,
      store: this.store,
      signer: this.signer,
      leaves: this.leaves,
      targets: options.targets,
      config: options.config,
      creds: options.creds,
      now: this.#now,
      ...(options.logger ? { logger: options.logger } : {}),
      ...(options.onFinalized ? { onFinalized: options.onFinalized } : {}),
    });
  }

  /**
   * Listens to cadence due events, handles the ones a crash kept from being heard (committed by
   * the cadence scheduler, never recorded here), and starts the coordinator's timer.
   */
  async start(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = this.#o.cadence.onDue((event) => this.leaves.onDue(event));
    await this.leaves.replayMissed(await this.#o.cadence.lastDueEvents());
    this.coordinator.start();
  }

  /** Stops listening and waits for epoch work in flight. */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    await this.coordinator.stop();
  }

  close(): Promise<void> {
    return this.store.close();
  }

  #target(id: string): void {
    if (!this.#o.config.targets.has(id))
      throw new RemembrancerError(
        'ANCHOR_TARGET_UNKNOWN',
        `this node has no anchor target ${JSON.stringify(id.slice(0, 100))}`,
      );
  }

  /** This node's leaves for a collaborative epoch (peer route). */
  async peerLeaves(target: string, epoch: number): Promise<unknown[]> {
    this.#target(target);
    return this.coordinator.leavesFor(target, epoch);
  }

  sign(body: unknown): Promise<GivenSignature> {
    const b = body as { statement?: unknown; leaves?: unknown } | null;
    return this.signer.sign(b?.statement, b?.leaves);
  }

  async outcome(target: string, epoch: number, mode: EpochMode): Promise<EpochOutcome> {
    this.#target(target);
    return this.coordinator.outcome(target, epoch, mode);
  }

  accept(body: unknown): Promise<'new' | 'same' | 'duplicate'> {
    return this.coordinator.accept(body as EpochFinalization);
  }

  async status(): Promise<AnchoringStatus> {
    const cadenceTargets = new Map<string, string[]>();
    for (const ns of this.#o.engine.listNamespaces()) {
      const view = await this.#o.cadence.view(ns.id);
      const names = Object.values(view).map((l) => l.target);
      if (names.length > 0) cadenceTargets.set(ns.id, names);
    }
    return anchoringStatus({
      self: this.#o.self,
      registry: this.#o.registry.latest(),
      config: this.#o.config,
      store: this.store,
      nowMs: this.#now(),
      cadenceTargets,
    });
  }

  /** Epochs of a target this node knows the outcome of, newest first. */
  async epochs(
    target: string,
    beforeEpoch: number,
    limit: number,
  ): Promise<{ epoch: EpochRecord; receipts: FederationReceipt[] }[]> {
    this.#target(target);
    return (await this.store.epochs(target, beforeEpoch, limit)).map((epoch) => ({
      epoch,
      receipts: epoch.finalization
        ? epoch.finalization.leaves.map((l) => this.#receipt(epoch.finalization!, l.origin))
        : [],
    }));
  }

  /** A namespace's anchoring per target its cadence names: configured or not, anchored size, queued. */
  async namespaceView(
    ns: NamespaceRecord,
  ): Promise<Record<string, { configured: boolean; anchored_size: number; queued: boolean }>> {
    const out: Record<string, { configured: boolean; anchored_size: number; queued: boolean }> = {};
    for (const level of Object.values(await this.#o.cadence.view(ns.id))) {
      const configured = this.#o.config.targets.has(level.target);
      out[level.target] = {
        configured,
        anchored_size: configured ? await this.store.anchoredSize(level.target, ns.origin) : 0,
        queued: configured && (await this.store.due(level.target)).some((d) => d.namespace === ns.id),
      };
    }
    return out;
  }

  /**
   * The anchors of entry `index` (issue 10, item 9): per target and mode, the first finalized
   * epoch whose leaf of this namespace covers the entry, as a federation receipt, with the
   * consistency proof from the entry receipt's checkpoint (`receiptSize`) to the anchored one.
   */
  async anchorsFor(ns: NamespaceRecord, index: number, receiptSize: number): Promise<EntryAnchor[]> {
    const firsts = new Map<string, { target: string; epoch: number; mode: EpochMode; node: string; size: number }>();
    for (const a of await this.store.anchorsCovering(ns.origin, index)) {
      const key = `${a.target}|${a.mode}|${a.node}`;
      const held = firsts.get(key);
      if (held === undefined || a.epoch < held.epoch) firsts.set(key, a);
    }
    const out: EntryAnchor[] = [];
    for (const a of firsts.values()) {
      const f = (await this.store.epoch(a.target, a.epoch, a.mode, a.node))?.finalization;
      if (f === undefined) continue;
      const anchor: EntryAnchor = { federation_receipt: this.#receipt(f, ns.origin) };
      if (a.size !== receiptSize) {
        const from = Math.min(a.size, receiptSize);
        const to = Math.max(a.size, receiptSize);
        anchor.consistency = {
          from,
          to,
          proof: (await this.#o.engine.consistencyProof(ns.id, from, to)).map((h) => base64Encode(h)),
        };
      }
      out.push(anchor);
    }
    return out;
  }

  #registryVersion(version: number): RegistrySet {
    const reg = this.#o.registry.versions().find((r) => r.version === version);
    if (reg === undefined) throw new RemembrancerError('INTERNAL', `registry version ${version} is not held`);
    return reg;
  }

  #receipt(f: EpochFinalization, origin: string): FederationReceipt {
    return buildFederationReceipt({
      statement: f.statement,
      signatures: f.signatures,
      tree: buildEpochTree(f.leaves),
      origin,
      anchor: f.anchor,
      evidence: f.evidence,
      finalizedAt: f.finalized_at,
      registry: this.#registryVersion(f.statement.registry_version),
    });
  }
}
