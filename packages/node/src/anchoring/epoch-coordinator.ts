import {
  RemembrancerError,
  anchorQuorum,
  anchorSigners,
  activePeers,
  buildEpochTree,
  countEpochSignatures,
  epochNumber,
  errorMessage,
  parseEpochLeaf,
  verifyEpochLeaf,
  type EpochLeaf,
  type EpochStatement,
  type RegistryPeer,
  type RegistrySet,
} from '@vaultmesh/core';
import type { Logger } from 'pino';
import type { AnchoringConfig, AnchorTargetConfig } from '../config/anchoring-config.js';
import type { FederationRegistry } from '../federation/federation-registry.js';
import type { PeerCredentials } from '../federation/peer-client.js';
import {
  fetchEpochOutcome,
  fetchPeerLeaves,
  pushFinalization,
  requestEpochSignature,
  type EpochOutcome,
} from './anchor-peer-client.js';
import type { EpochMode } from './anchor-records.js';
import type { AnchorStorage } from './anchor-storage.js';
import { epochNodeKey, type EpochFinalization, type EpochSignature } from './epoch-finalization.js';
import { checkProposal, type CheckedProposal } from './epoch-proposal.js';
import { epochsInPlay, planEpoch } from './epoch-schedule.js';
import type { EpochSigner, GivenSignature } from './epoch-signer.js';
import { checkFinalization, requiredSignatures } from './finalization-check.js';
import { MAX_EPOCH_LEAVES, type LocalLeaves } from './local-leaves.js';
import type { AnchorResult, AnchorTarget } from './anchor-target.js';
import { failedRequests } from './anchor-targets.js';

export type { AnchorTarget } from './anchor-target.js';

export interface EpochCoordinatorOptions {
  self: string;
  registry: FederationRegistry;
  store: AnchorStorage;
  signer: EpochSigner;
  leaves: LocalLeaves;
  targets: ReadonlyMap<string, AnchorTarget>;
  config: AnchoringConfig;
  creds: PeerCredentials;
  now?: () => number;
  logger?: Logger;
  /** Observes each finalized epoch this node stores (metrics). */
  onFinalized?: (f: EpochFinalization, outcome: 'new' | 'same' | 'duplicate') => void;
}

/**
 * The epoch tree over `leaves` and its statement under the registry in force: collaborative
 * (`node` null) or one node's independent epoch.
 */
function proposalOf(
  registry: RegistrySet,
  target: string,
  epoch: number,
  leaves: readonly EpochLeaf[],
  node: string | null,
): CheckedProposal {
  const tree = buildEpochTree(leaves);
  const statement: EpochStatement = {
    format: 'vaultmesh.epoch@1',
    federation_id: registry.federation_id,
    registry_version: registry.version,
    target,
    epoch,
    mode: node === null ? 'collaborative' : 'independent',
    node,
    tree_size: tree.size,
    root: tree.rootBase64,
  };
  return { statement, leaves: tree.leaves, tree };
}

/** Finalized epochs kept for a peer that has not taken them yet. */
const MAX_UNPUSHED_PER_PEER = 64;

/** Bound on one peer exchange of the protocol, ms (a fraction of the leader timeout). */
function peerTimeoutMs(config: AnchoringConfig): number {
  return Math.max(500, Math.min(5_000, Math.floor(config.leaderTimeoutMs / 3)));
}

/**
 * Drives the federation's epochs from this node (issue 10): as the leader (or a failover leader)
 * of a collaborative epoch it gathers leaves, proposes the root, collects a quorum of signatures,
 * anchors the root once and hands every peer the finalized epoch; under the independent strategy,
 * and as the hybrid strategy's fallback, it anchors its own leaves alone. Every step's state is in
 * the AnchorStore, so a restart resumes where it was: a signed root is reused, never replaced.
 */
export class EpochCoordinator {
  readonly #o: EpochCoordinatorOptions;
  readonly #now: () => number;
  #timer: ReturnType<typeof setInterval> | undefined;
  /** Jobs in flight by key (target|epoch|mode), so one epoch never runs twice at once. */
  readonly #running = new Map<string, Promise<void>>();
  /** When a job that failed may run again. */
  readonly #retryAt = new Map<string, number>();
  /** Independent epochs tried without anything to anchor (nothing to do again). */
  readonly #idle = new Map<string, number>();
  /** Finalizations peers have not taken yet: peer id → keys → the finalization. */
  readonly #unpushed = new Map<string, Map<string, EpochFinalization>>();
  #stopping = false;
  /**
   * The tick running, if any. Planning reads the storage (awaits), and two plans interleaving
   * could abandon an epoch twice or launch an independent epoch beside another: ticks never
   * overlap, as the synchronous ones could not; a timer tick while one runs is skipped.
   */
  #ticking: Promise<void> | undefined;

  constructor(options: EpochCoordinatorOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  start(): void {
    this.stopTimer();
    this.#stopping = false;
    this.#timer = setInterval(() => void this.tick(), this.#o.config.tickMs);
    this.#timer.unref();
  }

  private stopTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the timer and waits for the tick and the jobs in flight to end. */
  async stop(): Promise<void> {
    this.#stopping = true;
    this.stopTimer();
    await this.#ticking;
    await Promise.allSettled([...this.#running.values()]);
  }

  /**
   * Looks for work on every target; jobs run in the background (their failures are recorded).
   * Resolves when the planning is done (not the jobs); while a tick runs, another does nothing.
   */
  tick(): Promise<void> {
    if (this.#stopping || this.#ticking !== undefined) return Promise.resolve();
    const registry = this.#o.registry.latest();
    if (registry === undefined) return Promise.resolve();
    const ticking = this.#planAll(registry).finally(() => {
      this.#ticking = undefined;
    });
    this.#ticking = ticking;
    return ticking;
  }

  async #planAll(registry: RegistrySet): Promise<void> {
    for (const target of this.#o.targets.values()) {
      try {
        await this.#plan(registry, target);
      } catch (e) {
        this.#o.logger?.error({ target: target.config.id, err: errorMessage(e) }, 'anchoring tick failed');
      }
    }
    this.#retryPushes(registry);
  }

  async #plan(registry: RegistrySet, target: AnchorTarget): Promise<void> {
    const cfg = target.config;
    const now = this.#now();
    const current = epochNumber(now, cfg.epochMs);
    const strategy = registry.anchor_strategy;
    if (strategy === 'independent') {
      await this.#maybeIndependent(target, current - 1);
      return;
    }
    const signers = anchorSigners(registry);
    if (signers.length === 0) return;
    const inPlay = epochsInPlay(cfg, signers.length, this.#o.config);
    for (let e = current - 1; e >= Math.max(0, current - inPlay); e--) {
      if ((await this.#o.store.epoch(cfg.id, e, 'collaborative', '')) !== undefined) continue;
      const plan = planEpoch(registry, cfg, e, this.#o.self, signers.length, this.#o.config);
      if (now >= plan.abandonAtMs) {
        // A leader still at work (a chain anchor waiting for its confirmations) is not abandoned
        // under itself: its transaction is out, and the epoch ends finalized when it is deep enough.
        if (!this.#running.has(`${cfg.id}|${e}|collaborative`)) await this.#abandonIfSigned(cfg.id, e, now);
        continue;
      }
      const attempt = [...plan.mine].reverse().find((a) => a.fromMs <= now);
      if (attempt !== undefined)
        this.#launch(`${cfg.id}|${e}|collaborative`, () => this.#lead(target, e, attempt.attempt));
    }
    if (strategy === 'hybrid') {
      // The newest epoch whose fallback deadline has passed: leaves due before it closed and
      // still not anchored are anchored by this node alone.
      const e = epochNumber(now - this.#o.config.fallbackAfterMs, cfg.epochMs) - 1;
      if (e >= 0 && (await this.#o.store.epoch(cfg.id, e, 'collaborative', ''))?.status !== 'finalized') {
        const closes = (e + 1) * cfg.epochMs;
        if ((await this.#o.store.due(cfg.id)).some((d) => d.dueAtMs < closes)) await this.#maybeIndependent(target, e);
      }
    }
  }

  async #abandonIfSigned(target: string, epoch: number, now: number): Promise<void> {
    if ((await this.#o.store.signedRoot(target, epoch, 'collaborative')) === undefined) return;
    await this.#o.store.markEpoch(target, epoch, 'collaborative', '', 'abandoned', now);
    await this.#o.store.bump('abandoned', target);
    this.#o.logger?.warn({ target, epoch }, 'epoch abandoned: not finalized in time; its leaves roll into the next');
  }

  async #maybeIndependent(target: AnchorTarget, epoch: number): Promise<void> {
    const id = target.config.id;
    if (epoch < 0 || this.#idle.get(id) === epoch) return;
    if ((await this.#o.store.epoch(id, epoch, 'independent', this.#o.self)) !== undefined) return;
    // One independent anchor in flight per target: a chain anchor can outlast an epoch, and the
    // next epoch would sign the same pending leaves into another transaction, paid again.
    for (const key of this.#running.keys()) if (key.startsWith(`${id}|`) && key.endsWith('|independent')) return;
    this.#launch(`${id}|${epoch}|independent`, () => this.#anchorAlone(target, epoch));
  }

  #launch(key: string, job: () => Promise<void>): void {
    if (this.#running.has(key) || this.#stopping) return;
    if ((this.#retryAt.get(key) ?? 0) > this.#now()) return;
    const run = job()
      .catch((e: unknown) => {
        this.#retryAt.set(key, this.#now() + this.#retryDelayMs());
        this.#o.logger?.warn({ job: key, err: errorMessage(e) }, 'anchoring step failed; retrying');
      })
      .finally(() => this.#running.delete(key));
    this.#running.set(key, run);
  }

  #retryDelayMs(): number {
    return Math.max(this.#o.config.tickMs, Math.min(2_000, Math.floor(this.#o.config.leaderTimeoutMs / 4)));
  }

  async #fail(target: string, epoch: number, reason: string): Promise<never> {
    await this.#o.store.recordFailure(target, epoch, reason, this.#now());
    throw new Error(reason);
  }

  /** One attempt at leading a collaborative epoch. */
  async #lead(target: AnchorTarget, epoch: number, attempt: number): Promise<void> {
    const cfg = target.config;
    const registry = this.#o.signer.registry();
    const others = activePeers(registry).filter((p) => p.id !== this.#o.self);
    // The peers' leaves are asked for together with their outcomes (both routes only read): the
    // leaves are needed unless an outcome settles the epoch, and asking after the outcomes cost a
    // whole peer round trip between an epoch's close and its finalization.
    const t = peerTimeoutMs(this.#o.config);
    const peerLeaves = Promise.allSettled(others.map((p) => fetchPeerLeaves(p, this.#o.creds, cfg.id, epoch, t)));
    const outcomes =
      attempt > 0 || (await this.#o.store.signedRoot(cfg.id, epoch, 'collaborative')) === undefined
        ? await this.#outcomes(others, cfg.id, epoch)
        : [];
    // Someone holds the result already (the leader finished and this node missed the push).
    for (const o of outcomes) {
      if (o.status === 'finalized' && o.finalization && (await this.#adopt(o.finalization))) return;
    }
    if (outcomes.some((o) => o.status === 'empty')) {
      await this.#o.store.markEpoch(cfg.id, epoch, 'collaborative', '', 'empty', this.#now());
      return;
    }
    const proposal =
      (await this.#reusableProposal(registry, cfg, epoch, outcomes)) ??
      (await this.#freshProposal(registry, target, epoch, others, await peerLeaves));
    if (proposal === undefined) {
      await this.#o.store.markEpoch(cfg.id, epoch, 'collaborative', '', 'empty', this.#now());
      return;
    }
    const signatures = await this.#gatherSignatures(registry, proposal);
    const needed = anchorQuorum(registry);
    if (signatures.length < needed)
      await this.#fail(
        cfg.id,
        epoch,
        `quorum not reached: ${signatures.length} of ${needed} signatures for root ${proposal.statement.root}`,
      );
    const f = await this.#anchor(target, proposal, signatures, attempt);
    if (attempt > 0) await this.#o.store.bump('failovers', cfg.id);
    this.#push(others, f);
  }

  async #outcomes(peers: RegistryPeer[], target: string, epoch: number): Promise<EpochOutcome[]> {
    const t = peerTimeoutMs(this.#o.config);
    const answers = await Promise.allSettled(
      peers.map((p) => fetchEpochOutcome(p, this.#o.creds, target, epoch, 'collaborative', t)),
    );
    answers.forEach((a, i) => {
      // The root a peer says it signed is its signature too: a second root is equivocation evidence.
      if (a.status === 'fulfilled' && a.value.signed)
        this.#o.signer.observePeerSignatures(a.value.signed.statement, [
          { node: peers[i]!.id, sig: a.value.signed.sig },
        ]);
    });
    return answers.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
  }

  /** Stores a finalized epoch a peer holds, once it verifies; false if it does not. */
  async #adopt(f: EpochFinalization): Promise<boolean> {
    try {
      await this.accept(f);
      return true;
    } catch (e) {
      this.#o.logger?.warn({ err: errorMessage(e) }, 'a peer offered a finalized epoch that does not verify');
      return false;
    }
  }

  /**
   * The root someone already signed for this epoch, if any: the one most peers signed (this
   * node's own first), so a failover leader gathers the same quorum-signed root. A statement of
   * an older registry version cannot gather signatures any more and is not reused.
   */
  async #reusableProposal(
    registry: RegistrySet,
    cfg: AnchorTargetConfig,
    epoch: number,
    outcomes: EpochOutcome[],
  ): Promise<CheckedProposal | undefined> {
    const own = await this.#o.store.signedRoot(cfg.id, epoch, 'collaborative');
    const candidates = new Map<string, { votes: number; statement: unknown; leaves: unknown }>();
    if (own) candidates.set(own.statement.root, { votes: 1_000_000, statement: own.statement, leaves: own.leaves });
    for (const o of outcomes) {
      const s = o.signed;
      if (o.status !== 'signed' || typeof s?.statement?.root !== 'string') continue;
      const c = candidates.get(s.statement.root);
      if (c) c.votes++;
      else candidates.set(s.statement.root, { votes: 1, statement: s.statement, leaves: s.leaves });
    }
    const ranked = [...candidates.values()].sort((a, b) => b.votes - a.votes);
    for (const c of ranked) {
      try {
        return checkProposal(c.statement, c.leaves, this.#context(registry, cfg));
      } catch {
        // A root that does not verify (or of an older registry version) is not worth reusing.
      }
    }
    return undefined;
  }

  #context(registry: RegistrySet, target: AnchorTargetConfig) {
    return { registry, target, nowMs: this.#now(), maxClockSkewMs: this.#o.config.maxClockSkewMs };
  }

  /**
   * Gathers every active peer's leaves (this node's first; `answers` are the others', in `others`
   * order) into a new epoch tree; undefined if there are none.
   */
  async #freshProposal(
    registry: RegistrySet,
    target: AnchorTarget,
    epoch: number,
    others: RegistryPeer[],
    answers: PromiseSettledResult<unknown[]>[],
  ): Promise<CheckedProposal | undefined> {
    const cfg = target.config;
    const offered: { from: string; leaf: unknown }[] = (await this.leavesFor(cfg.id, epoch)).map((leaf) => ({
      from: this.#o.self,
      leaf,
    }));
    for (const [i, a] of answers.entries()) {
      if (a.status === 'fulfilled')
        for (const leaf of a.value.slice(0, MAX_EPOCH_LEAVES)) offered.push({ from: others[i]!.id, leaf });
      else
        await this.#o.store.recordFailure(
          cfg.id,
          epoch,
          `leaves of ${others[i]!.id}: ${errorMessage(a.reason)}`,
          this.#now(),
        );
    }
    // Every leaf is checked here as every signer will: one bad leaf must not sink the epoch.
    const byOrigin = new Map<string, EpochLeaf>();
    for (const { from, leaf } of offered) {
      try {
        const l = parseEpochLeaf(leaf);
        verifyEpochLeaf(l, registry);
        const held = byOrigin.get(l.origin);
        if (held === undefined || held.size < l.size) byOrigin.set(l.origin, l);
      } catch (e) {
        await this.#o.store.recordFailure(
          cfg.id,
          epoch,
          `a leaf from ${from} does not verify: ${errorMessage(e)}`,
          this.#now(),
        );
      }
    }
    if (byOrigin.size === 0) return undefined;
    const leaves = [...byOrigin.values()]
      .sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : 0))
      .slice(0, MAX_EPOCH_LEAVES);
    return proposalOf(registry, cfg.id, epoch, leaves, null);
  }

  /** This node's signature first (recorded before anything is sent), then every other anchor peer's. */
  async #gatherSignatures(registry: RegistrySet, p: CheckedProposal): Promise<EpochSignature[]> {
    const own = await this.#o.signer.signChecked(p);
    const t = peerTimeoutMs(this.#o.config);
    const peers = anchorSigners(registry).filter((s) => s.id !== this.#o.self);
    const answers = await Promise.allSettled(
      peers.map((peer) => requestEpochSignature(peer, this.#o.creds, p.statement, p.leaves, t)),
    );
    const given: GivenSignature[] = [own];
    for (const [i, a] of answers.entries()) {
      if (a.status === 'fulfilled') given.push(a.value);
      else
        await this.#o.store.recordFailure(
          p.statement.target,
          p.statement.epoch,
          `signature of ${peers[i]!.id}: ${errorMessage(a.reason)}`,
          this.#now(),
        );
    }
    this.#o.signer.observePeerSignatures(p.statement, given);
    const { valid } = countEpochSignatures(p.statement, this.#o.signer.countable(p.statement, given), registry);
    return given
      .filter((g) => valid.includes(g.node))
      .map((g) => ({
        node: g.node,
        sig: g.sig,
        role: g.node === this.#o.self ? 'leader' : 'signer',
        timestamp: g.signed_at,
      }));
  }

  /** Commits the root to the target, stores the finalized epoch and returns it. */
  async #anchor(
    target: AnchorTarget,
    p: CheckedProposal,
    signatures: EpochSignature[],
    attempt: number,
  ): Promise<EpochFinalization> {
    const cfg = target.config;
    let anchored: AnchorResult;
    try {
      anchored = await target.anchor(p.statement, {
        journal: this.#o.store.chain,
        stopping: () => this.#stopping,
        now: this.#now,
      });
    } catch (e) {
      // A failed call made requests too (each retry, each TSA): status counts every one.
      const made = failedRequests(e);
      if (made > 0) await this.#o.store.bump('target_requests', cfg.id, made);
      return this.#fail(cfg.id, p.statement.epoch, `anchoring at ${cfg.id} failed: ${errorMessage(e)}`);
    }
    await this.#o.store.bump('target_requests', cfg.id, anchored.requests);
    const f: EpochFinalization = {
      statement: p.statement,
      leaves: p.leaves,
      signatures,
      anchor: anchored.anchor,
      evidence: anchored.evidence,
      finalized_at: new Date(this.#now()).toISOString(),
      leader: this.#o.self,
      attempt,
    };
    await this.#record(f);
    return f;
  }

  async #record(f: EpochFinalization): Promise<'new' | 'same' | 'duplicate'> {
    const outcome = await this.#o.store.recordFinalized(f, this.#o.leaves.ownOrigins(), this.#now());
    if (outcome === 'duplicate') await this.#o.store.bump('duplicates', f.statement.target);
    if (outcome === 'new') await this.#o.store.bump('finalized', `${f.statement.target}|${f.statement.mode}`);
    this.#o.onFinalized?.(f, outcome);
    return outcome;
  }

  /** Anchors this node's own pending leaves alone (independent strategy, hybrid fallback). */
  async #anchorAlone(target: AnchorTarget, epoch: number): Promise<void> {
    const cfg = target.config;
    const registry = this.#o.signer.registry();
    const leaves = await this.#o.leaves.pending(cfg.id);
    if (leaves.length === 0) {
      this.#idle.set(cfg.id, epoch);
      return;
    }
    const proposal = proposalOf(registry, cfg.id, epoch, leaves, this.#o.self);
    const own = await this.#o.signer.signChecked(proposal);
    const f = await this.#anchor(
      target,
      proposal,
      [{ node: own.node, sig: own.sig, role: 'leader', timestamp: own.signed_at }],
      0,
    );
    this.#push(
      activePeers(registry).filter((p) => p.id !== this.#o.self),
      f,
    );
  }

  /** Hands the finalized epoch to every peer; those that miss it get it again on later ticks. */
  #push(peers: RegistryPeer[], f: EpochFinalization): void {
    const key = `${f.statement.target}|${f.statement.epoch}|${f.statement.mode}|${epochNodeKey(f.statement)}`;
    for (const p of peers) {
      let m = this.#unpushed.get(p.id);
      if (m === undefined) this.#unpushed.set(p.id, (m = new Map<string, EpochFinalization>()));
      m.set(key, f);
      // A peer down for long gets the newest epochs only; it can ask for older ones (epoch route).
      while (m.size > MAX_UNPUSHED_PER_PEER) m.delete(m.keys().next().value!);
    }
    this.#retryPushes(this.#o.signer.registry());
  }

  #retryPushes(registry: RegistrySet): void {
    for (const [peerId, pending] of this.#unpushed) {
      const peer = registry.peers.find((p) => p.id === peerId);
      if (peer === undefined || pending.size === 0) {
        this.#unpushed.delete(peerId);
        continue;
      }
      this.#launch(`push|${peerId}`, async () => {
        for (const [key, f] of [...pending]) {
          await pushFinalization(peer, this.#o.creds, f, peerTimeoutMs(this.#o.config));
          pending.delete(key);
        }
      });
    }
  }

  /**
   * Checks and stores a finalized epoch from a peer (the push route, or an answer to a failover
   * leader's question). Returns whether it was new, already held, or a duplicate anchor.
   */
  async accept(f: EpochFinalization): Promise<'new' | 'same' | 'duplicate'> {
    const statement = (f as { statement?: { target?: unknown; registry_version?: unknown } } | null)?.statement;
    const target = typeof statement?.target === 'string' ? this.#o.targets.get(statement.target) : undefined;
    if (target === undefined) {
      throw new RemembrancerError(
        'ANCHOR_TARGET_UNKNOWN',
        `this node has no anchor target ${JSON.stringify(String(statement?.target).slice(0, 100))}`,
      );
    }
    const registry = this.#o.registry.versions().find((r) => r.version === statement?.registry_version);
    if (registry === undefined)
      throw new RemembrancerError(
        'REGISTRY_STALE',
        `registry version ${String(statement?.registry_version)} is unknown here`,
      );
    // Its signatures are remembered even if it does not verify: a valid one is a signature still.
    this.#o.signer.observePeerSignatures(f.statement, Array.isArray(f.signatures) ? f.signatures : []);
    const counted = Array.isArray(f.signatures) ? this.#o.signer.countable(f.statement, f.signatures) : f.signatures;
    await checkFinalization(
      { ...f, signatures: counted },
      {
        ...this.#context(registry, target.config),
        ...(target.confirmations ? { confirmations: target.confirmations.bind(target) } : {}),
      },
    );
    return this.#record(f);
  }

  /**
   * This node's leaves for a collaborative epoch: its pending ones, less those it signed into
   * another epoch still in play whose outcome it does not know yet.
   */
  async leavesFor(target: string, epoch: number): Promise<EpochLeaf[]> {
    const registry = this.#o.registry.latest();
    const cfg = this.#o.targets.get(target)?.config;
    if (registry === undefined || cfg === undefined) return this.#o.leaves.pending(target);
    const signers = Math.max(1, anchorSigners(registry).length);
    // Roots signed for other epochs still in play, before this one and after it: under clock skew
    // a leader running ahead can have this node sign epoch e+1 before e's leader gathers.
    const span = epochsInPlay(cfg, signers, this.#o.config);
    return this.#o.leaves.pending(target, await this.#o.store.inFlightSizes(target, epoch - span, epoch + span, epoch));
  }

  /** What this node knows of an epoch (the peer route a failover leader asks). */
  async outcome(target: string, epoch: number, mode: EpochMode): Promise<EpochOutcome> {
    const node = mode === 'collaborative' ? '' : this.#o.self;
    const rec = await this.#o.store.epoch(target, epoch, mode, node);
    if (rec !== undefined)
      return { status: rec.status, ...(rec.finalization ? { finalization: rec.finalization } : {}) };
    const signed = await this.#o.store.signedRoot(target, epoch, mode);
    if (signed !== undefined)
      return {
        status: 'signed',
        signed: { statement: signed.statement, leaves: signed.leaves, sig: signed.sig, signed_at: signed.signedAt },
      };
    return { status: 'unknown' };
  }

  /** Quorum a statement of `mode` needs under the registry in force. */
  required(mode: EpochMode): number {
    return requiredSignatures(this.#o.signer.registry(), mode);
  }
}
