import { base64Encode, type EpochLeaf } from '@vaultmesh/core';
import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../log/log-engine.js';
import type { CadenceDueEvent } from '../namespaces/cadence-scheduler.js';
import type { SealedCheckpoint, Sealing, WitnessPolicy } from '../namespaces/sealing.js';
import type { AnchorStorage, DueEffect } from './anchor-storage.js';

/** Most leaves one node offers one epoch; more wait for the next (keeps a proposal within the peer body limit). */
export const MAX_LOCAL_LEAVES_PER_EPOCH = 256;
/** Most leaves in one epoch tree across the federation (each is ~1 KiB in a 512 KiB peer body). */
export const MAX_EPOCH_LEAVES = 384;

/** Why a due namespace was not queued for anchoring. */
export type SkipReason = 'target-not-configured' | 'no-checkpoint' | 'not-sealed' | 'nothing-new';

export interface LocalLeavesOptions {
  engine: LogEngine;
  sealing: Sealing;
  store: AnchorStorage;
  /** The checkpoint's note with every cosignature held (what peers verify). */
  checkpointNote(origin: string, cp: PublishedCheckpoint): string | Promise<string>;
  witnessPolicy(nsId: string): WitnessPolicy | undefined;
  /** Whether this node has the target configured (config.json `anchoring.targets`). */
  isConfigured(target: string): boolean;
  /**
   * Hears every cadence due event up to now (the scheduler's tick), called before leaves are
   * offered: a namespace due at the very moment an epoch closes is in that epoch, not the next.
   */
  catchUp?: () => Promise<unknown>;
  /** Receives errors of due events handled in the background (they have no caller to throw to). */
  onError?: (error: unknown) => void;
}

/**
 * This node's share of every epoch: namespaces whose cadence came due at a target (issue 10,
 * item 2), each offered as its latest *sealed* checkpoint. A due namespace with nothing new sealed
 * is skipped, and the skip counted under its reason; one that has something is queued until an
 * anchor covers the size it had sealed when it came due.
 */
export class LocalLeaves {
  readonly #o: LocalLeavesOptions;
  /** Due events being handled, one at a time in the order heard; pending() waits for them. */
  #handling: Promise<void> = Promise.resolve();

  constructor(options: LocalLeavesOptions) {
    this.#o = options;
  }

  /**
   * Handles one cadence due event (CadenceScheduler.onDue), then records it as seen: an event
   * replayed after a crash (replayMissed) is handled again, which is harmless — queueing is an
   * upsert and a skip is only counted. The namespace's sealed checkpoint is read from the log
   * (awaited) after the events heard before it are handled; errors go to onError.
   */
  onDue(event: CadenceDueEvent): void {
    this.#handling = this.#handling
      .then(() => this.#handleDue(event))
      .catch((error: unknown) => this.#o.onError?.(error));
  }

  /**
   * Handles each level's latest due event that this node's anchoring never recorded as seen: the
   * cadence scheduler committed it, then the process died before the event was handled. Resolves
   * to how many were replayed (queued behind the events heard before).
   */
  async replayMissed(latest: readonly CadenceDueEvent[]): Promise<number> {
    let replayed = 0;
    for (const event of latest) {
      const seen = await this.#o.store.dueSeen(event.namespace, event.level, event.target);
      if (seen !== undefined && seen >= event.dueAtMs) continue;
      this.onDue(event);
      replayed++;
    }
    return replayed;
  }

  async #handleDue(event: CadenceDueEvent): Promise<void> {
    // The queueing, its counter and the seen mark: one transaction (handleDue), one commit.
    await this.#o.store.handleDue(event, await this.#effect(event));
  }

  /**
   * What the due event does: queue the namespace at its sealed size, count a skip, or nothing.
   * Read before handleDue's transaction (the log and the sealing are not in it): an anchor that
   * lands in between leaves a due already satisfied, which pending() drops (clearDueSatisfied).
   */
  async #effect(event: CadenceDueEvent): Promise<DueEffect> {
    if (!this.#o.isConfigured(event.target)) return { kind: 'skip', label: `${event.target}|target-not-configured` };
    const ns = this.#o.engine.getNamespace(event.namespace);
    if (ns === undefined) return { kind: 'none' };
    const verdict = this.#verdict(
      await this.#o.store.anchoredSize(event.target, ns.origin),
      ns,
      await this.#o.sealing.latestSealed(ns),
    );
    return verdict.kind === 'skip'
      ? { kind: 'skip', label: `${event.target}|${verdict.reason}` }
      : { kind: 'queue', namespace: ns.id, sealedSize: verdict.size };
  }

  #verdict(
    anchored: number,
    ns: NamespaceRecord,
    sealed: SealedCheckpoint | undefined,
  ): { kind: 'skip'; reason: SkipReason } | { kind: 'leaf'; size: number } {
    const latest = this.#o.engine.latestCheckpoint(ns.id);
    if (latest === undefined || latest.size === 0) return { kind: 'skip', reason: 'no-checkpoint' };
    if (sealed !== undefined && sealed.checkpoint.size > anchored)
      return { kind: 'leaf', size: sealed.checkpoint.size };
    return { kind: 'skip', reason: latest.size > anchored ? 'not-sealed' : 'nothing-new' };
  }

  /**
   * The leaves this node offers for `target` now: each queued namespace's latest sealed
   * checkpoint past what is anchored there. Queued namespaces that have nothing new any more
   * (anchored meanwhile by another epoch) leave the queue.
   */
  async pending(target: string, inFlight: ReadonlyMap<string, number> = new Map()): Promise<EpochLeaf[]> {
    const { store, engine } = this.#o;
    await this.#o.catchUp?.();
    // The events catchUp just delivered (and any before) are queued before the queue is read.
    await this.#handling;
    const out: EpochLeaf[] = [];
    for (const due of await store.due(target)) {
      if (out.length >= MAX_LOCAL_LEAVES_PER_EPOCH) break;
      const ns = engine.getNamespace(due.namespace);
      if (ns === undefined) {
        await store.clearDue(target, due.namespace);
        continue;
      }
      const sealed = await this.#o.sealing.latestSealed(ns);
      const anchored = await store.anchoredSize(target, ns.origin);
      if (sealed === undefined || sealed.checkpoint.size <= anchored) {
        // Compare-and-delete: a due raised meanwhile (another event, another front end) stays.
        await store.clearDueSatisfied(target, due.namespace, anchored);
        continue;
      }
      // Already in a root this node signed for an earlier epoch still in flight: it waits for
      // that epoch's outcome (anchored, or abandoned and offered again) rather than be anchored twice.
      if (sealed.checkpoint.size <= (inFlight.get(ns.origin) ?? 0)) continue;
      const policy = this.#o.witnessPolicy(ns.id) ?? { min_required: 0, allowlist: [] };
      out.push({
        origin: ns.origin,
        size: sealed.checkpoint.size,
        root: base64Encode(sealed.checkpoint.root),
        checkpoint: await this.#o.checkpointNote(ns.origin, sealed.checkpoint),
        witness_policy: { min_required: policy.min_required, allowlist: [...policy.allowlist] },
      });
    }
    return out;
  }

  /** Namespace id of each origin of this node (for clearing what a finalized epoch satisfied). */
  ownOrigins(): Map<string, string> {
    return new Map(this.#o.engine.listNamespaces().map((n) => [n.origin, n.id]));
  }
}
