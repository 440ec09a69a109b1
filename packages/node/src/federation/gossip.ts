import { errorMessage, peerForOrigin, type RegistryPeer } from '@vaultmesh/core';
import type { LogEngineLogger } from '../log/logger.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { EquivocationMonitor } from './equivocation-monitor.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import type { FederationRegistry } from './federation-registry.js';
import {
  PeerRequestError,
  malformedPeerAnswer,
  peerAnswerJson,
  peerRequest,
  type PeerCredentials,
} from './peer-client.js';
import { settleWithin } from './settle-within.js';

/** The peer view route: what a node shows its peers of its logs and its witness (peer-authenticated). */
export const PEER_VIEW_PATH = '/v1/federation/peer/view';

/** `GET /v1/federation/peer/view`. */
export interface PeerView {
  registry_version: number | null;
  /** origin → this node's latest checkpoint of that namespace, with the cosignatures it holds. */
  checkpoints: Record<string, string>;
  /** origin → the latest checkpoint this node's witness cosigned for that log. */
  witnessed: Record<string, string>;
}

/** Notes taken from one view at most; a federation's namespaces fit easily. */
export const MAX_VIEW_NOTES = 10_000;

export interface GossipOptions {
  self: string;
  registry: FederationRegistry;
  ledger: EvidenceLedger;
  monitor: EquivocationMonitor;
  creds: PeerCredentials;
  /** Time between rounds, ms (default 1000). */
  intervalMs?: number;
  /** Bound on each request to a peer, ms (default: the interval, at most 2000). */
  timeoutMs?: number;
  metrics?: NodeMetrics;
  logger?: LogEngineLogger;
}

export interface GossipPeerState {
  peer: string;
  reachable: boolean;
  lastSeenAt?: string;
  lastError?: string;
  registryVersion?: number | null;
  /** origin → size of the peer's own latest checkpoint of that namespace, as its view showed it. */
  checkpoints: Map<string, number>;
}

function isStringRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the form of a view (attacker-controlled); the notes in it are verified one by one later. */
export function parsePeerView(json: unknown): PeerView | undefined {
  if (!isStringRecord(json)) return undefined;
  const version = json['registry_version'];
  if (version !== null && !(typeof version === 'number' && Number.isSafeInteger(version) && version >= 1))
    return undefined;
  const notes = (v: unknown): Record<string, string> | undefined => {
    if (!isStringRecord(v)) return undefined;
    const entries = Object.entries(v).filter((e): e is [string, string] => typeof e[1] === 'string');
    return Object.fromEntries(entries.slice(0, MAX_VIEW_NOTES));
  };
  const checkpoints = notes(json['checkpoints']);
  const witnessed = notes(json['witnessed']);
  if (!checkpoints || !witnessed) return undefined;
  return { registry_version: version, checkpoints, witnessed };
}

/**
 * Gossip: every interval, pulls each other active peer's view (its latest checkpoints and what its
 * witness cosigned), concurrently and each bounded by a timeout. A peer on a newer registry
 * version is asked for the whole chain, and the newer versions are offered in order to the local
 * registry, which verifies each; so the federation converges on the latest version any peer
 * holds. Every note seen goes to the equivocation monitor; evidence not yet acknowledged by every
 * peer is pushed again at the end of each round.
 */
export class Gossip {
  readonly intervalMs: number;
  private readonly timeoutMs: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly states = new Map<string, GossipPeerState>();
  private roundCount = 0;
  private lastRound: string | undefined;

  constructor(private readonly options: GossipOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.timeoutMs = options.timeoutMs ?? Math.min(Math.max(this.intervalMs, 250), 2000);
  }

  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => {
      if (!this.running) void this.round();
    }, this.intervalMs);
    this.timer.unref();
  }

  /**
   * Stops the rounds and waits for the one under way. Bounded: a round chains requests (the pulls,
   * then registry versions, proofs from origins and evidence pushes), each within its own timeout
   * but not their sum; the round stops at its next step once stopped.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const r = this.running;
    if (r) await settleWithin([r], this.timeoutMs * 3);
  }

  peers(): GossipPeerState[] {
    return [...this.states.values()];
  }

  rounds(): { count: number; lastAt: string | null } {
    return { count: this.roundCount, lastAt: this.lastRound ?? null };
  }

  /** One round (what each tick runs); resolves when every peer answered or timed out and every note was checked. */
  round(): Promise<void> {
    this.running ??= this.runRound().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runRound(): Promise<void> {
    const { registry, self, monitor, ledger, metrics, logger } = this.options;
    try {
      await registry.refresh();
      if (!registry.latest()) return;
      const peers = registry.activeOthers(self);
      const views = await Promise.all(peers.map((p) => this.pull(p)));
      if (this.stopped) return;
      await this.syncRegistry(peers, views);
      // All at once: the monitor serializes the checks of one origin, so a log whose node is slow
      // to answer for its proofs holds up only the checks of that log.
      const checks: Promise<unknown>[] = [];
      for (const [i, view] of views.entries()) {
        if (!view) continue;
        const from = peers[i]!.id;
        for (const note of [...Object.values(view.checkpoints), ...Object.values(view.witnessed)]) {
          checks.push(
            monitor.observe(note, from).catch((e: unknown) => {
              if (!this.stopped)
                logger?.error({ peer: from, err: errorMessage(e) }, 'checking a gossiped checkpoint failed');
            }),
          );
        }
      }
      await Promise.all(checks);
      if (this.stopped) return;
      await ledger.pushPending();
      this.roundCount++;
      this.lastRound = new Date().toISOString();
      metrics?.gossipRounds.inc();
    } catch (e) {
      if (!this.stopped) logger?.error({ err: errorMessage(e) }, 'gossip round failed');
    }
  }

  private async pull(peer: RegistryPeer): Promise<PeerView | undefined> {
    const state = this.states.get(peer.id) ?? {
      peer: peer.id,
      reachable: false,
      checkpoints: new Map<string, number>(),
    };
    this.states.set(peer.id, state);
    try {
      const res = await peerRequest(peer, this.options.creds, 'GET', PEER_VIEW_PATH, { timeoutMs: this.timeoutMs });
      state.reachable = true;
      const view = parsePeerView(peerAnswerJson(peer, res));
      if (!view) throw malformedPeerAnswer(peer, res, 'a malformed view');
      state.lastSeenAt = new Date().toISOString();
      state.registryVersion = view.registry_version;
      delete state.lastError;
      this.recordCheckpoints(peer, state, view);
      return view;
    } catch (e) {
      // A peer that refused or answered nonsense is up; one that gave no answer in time is not.
      if (e instanceof PeerRequestError) state.reachable = e.answered;
      state.lastError = errorMessage(e);
      return undefined;
    } finally {
      this.options.metrics?.gossipPeerReachable.set({ peer: peer.id }, state.reachable ? 1 : 0);
    }
  }

  /** Sizes of the peer's own logs, for status (lag); whether they verify is the monitor's business. */
  private recordCheckpoints(peer: RegistryPeer, state: GossipPeerState, view: PeerView): void {
    const reg = this.options.registry.latest();
    state.checkpoints.clear();
    for (const [origin, note] of Object.entries(view.checkpoints)) {
      if (!reg || peerForOrigin(reg, origin)?.id !== peer.id) continue;
      const cp = this.options.monitor.open(note);
      if (cp && cp.origin === origin) state.checkpoints.set(origin, cp.size);
    }
  }

  /** Adopts the newest registry version any peer shows, each version verified by the registry. */
  private async syncRegistry(peers: RegistryPeer[], views: Array<PeerView | undefined>): Promise<void> {
    const { registry, logger } = this.options;
    const candidates = peers
      .map((p, i) => ({ peer: p, version: views[i]?.registry_version ?? 0 }))
      .filter((c) => c.version > (registry.latest()?.version ?? 0))
      .sort((a, b) => b.version - a.version);
    for (const { peer, version } of candidates) {
      if (this.stopped || version <= (registry.latest()?.version ?? 0)) return;
      try {
        const res = await peerRequest(peer, this.options.creds, 'GET', '/v1/federation/registry?all=1', {
          timeoutMs: this.timeoutMs,
        });
        const body = peerAnswerJson(peer, res) as { versions?: unknown } | null;
        if (!Array.isArray(body?.versions)) throw malformedPeerAnswer(peer, res, 'no versions array');
        const versionOf = (v: unknown): number =>
          isStringRecord(v) && typeof v['version'] === 'number' ? v['version'] : 0;
        for (const v of [...(body.versions as unknown[])].sort((a, b) => versionOf(a) - versionOf(b))) {
          const n = versionOf(v);
          if (n <= registry.latest()!.version) continue;
          // Verified against the version in force before it is stored; a bad one stops the chain.
          await registry.offer(v);
          logger?.info({ peer: peer.id, version: n }, 'registry version adopted from a peer');
        }
      } catch (e) {
        logger?.warn(
          { peer: peer.id, version, err: errorMessage(e) },
          'could not adopt a newer registry version from a peer',
        );
      }
    }
  }
}
