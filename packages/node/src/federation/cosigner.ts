import {
  CosignatureVerifier,
  base64Encode,
  errorMessage,
  formatAddCheckpointRequest,
  formatSignatureLine,
  parseCosignatureResponse,
  parseSizeResponse,
  verifyCosignature,
  type RegistryPeer,
} from '@vaultmesh/core';
import type { LogEngine, PublishedCheckpoint } from '../log/log-engine.js';
import type { LogEngineLogger } from '../log/logger.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { FederationRegistry } from './federation-registry.js';
import type { FederationStorage } from './federation-storage.js';
import {
  PeerRequestError,
  isPeerSilent,
  malformedPeerAnswer,
  peerFetch,
  peerRefusal,
  type PeerAnswer,
} from './peer-client.js';

export interface CosignerOptions {
  engine: LogEngine;
  registry: FederationRegistry;
  store: FederationStorage;
  /** This node's name: its own witness is asked only where `selfWitness` says so. */
  self: string;
  /**
   * Whether this node's own witness should cosign the namespace's checkpoints too: when the
   * namespace's witness policy allowlists this node. Its witness key is never the log key, and
   * counting it is the namespace's owner's choice; by default a node never witnesses itself.
   */
  selfWitness?: (namespace: string) => boolean;
  /** Told when a valid cosignature was stored (the sealed-checkpoint cache listens). */
  onCosignature?: (namespace: string) => void;
  /** Bound on each witness round trip (default 1000 ms); a slow witness never holds up the others. */
  timeoutMs?: number;
  /** How often new checkpoints are looked for (default 50 ms). */
  pollMs?: number;
  /** How soon witnesses that did not cosign the latest checkpoint are asked again (default 1000 ms). */
  retryMs?: number;
  logger?: LogEngineLogger;
  metrics?: NodeMetrics;
}

export interface WitnessPeerState {
  peer: string;
  reachable: boolean;
  lastSuccessAt?: string;
  lastError?: string;
  lastLatencyMs?: number;
}

/** How far one witness is behind this node's latest checkpoints (GET /v1/federation/status). */
export interface WitnessLag {
  /** Namespaces this witness is asked to cosign. */
  namespaces: number;
  /** Of those, how many have a latest checkpoint it has not cosigned. */
  behind: number;
  /** The most entries by which its last cosigned size trails a latest checkpoint (0: never cosigned counts from 0). */
  entries: number;
}

export interface NamespaceCosigning {
  namespace: string;
  size: number;
  cosigners: string[];
  roundMs?: number;
  /** When the last round (or retry) ended, ms since the epoch. */
  at: number;
}

/**
 * Sends every checkpoint this node publishes to the witness of every active peer, concurrently
 * (the same checkpoint to all), per C2SP tlog-witness: `old` is the size that witness last
 * cosigned for the origin; a 409 tells the right old size and the request is resent once with a
 * consistency proof from it. Valid cosignatures are stored and merged into the checkpoint served.
 * Runs beside the sequencer: appends never wait for witnesses.
 */
export class Cosigner {
  private readonly timeoutMs: number;
  private readonly pollMs: number;
  private readonly retryMs: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** namespace → its round under way: one at a time per namespace, and what stop waits for. */
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly sentSize = new Map<string, number>();
  /** (peer id, origin) → the size that peer's witness last cosigned. */
  private readonly witnessSize = new Map<string, number>();
  private readonly peers = new Map<string, WitnessPeerState>();
  private readonly lastRound = new Map<string, NamespaceCosigning>();
  private readonly roundLatencies: number[] = [];

  constructor(private readonly options: CosignerOptions) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.pollMs = options.pollMs ?? 50;
    this.retryMs = options.retryMs ?? 1000;
  }

  start(): void {
    this.stopped = false;
    this.timer ??= setInterval(() => this.tick(), this.pollMs);
    this.timer.unref();
  }

  /**
   * Stops asking witnesses and waits for the rounds under way. No extra bound is needed: each
   * witness request is bounded by `timeoutMs` (body included), and after stop no round sends
   * another, so this resolves within one timeout.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.allSettled([...this.inFlight.values()]);
  }

  witnessPeers(): WitnessPeerState[] {
    return [...this.peers.values()];
  }

  namespaces(): NamespaceCosigning[] {
    return [...this.lastRound.values()];
  }

  /** Recent cosigning round latencies in ms (submit to last answer), newest last. */
  latencies(): readonly number[] {
    return this.roundLatencies;
  }

  /**
   * Per witness peer, how far what it last cosigned (or told us it holds, in a 409) trails this
   * node's latest checkpoints. In memory, O(namespaces × witnesses); a restart forgets what
   * witnesses held until the next round asks them.
   */
  witnessLags(): Map<string, WitnessLag> {
    const lags = new Map<string, WitnessLag>();
    for (const ns of this.options.engine.listNamespaces()) {
      const cp = this.options.engine.latestCheckpoint(ns.id);
      if (!cp) continue;
      for (const p of this.witnesses(ns.id)) {
        let lag = lags.get(p.id);
        if (!lag) lags.set(p.id, (lag = { namespaces: 0, behind: 0, entries: 0 }));
        const held = this.witnessSize.get(`${p.id}\n${ns.origin}`) ?? 0;
        lag.namespaces++;
        if (held < cp.size) {
          lag.behind++;
          lag.entries = Math.max(lag.entries, cp.size - held);
        }
      }
    }
    return lags;
  }

  private tick(): void {
    if (!this.options.registry.latest()) return;
    for (const ns of this.options.engine.listNamespaces()) {
      if (this.inFlight.has(ns.id)) continue;
      const cp = this.options.engine.latestCheckpoint(ns.id);
      if (!cp) continue;
      const last = this.lastRound.get(ns.id);
      const fresh = this.sentSize.get(ns.id) !== cp.size;
      // A witness that missed the latest checkpoint (down, partitioned, restarting) is asked again
      // until it cosigns: after a partition heals, witnesses catch up with no operator action.
      if (!fresh && (!last || Date.now() - last.at < this.retryMs || this.missing(ns.id, last).length === 0)) continue;
      // round() catches per witness; nothing is left to reject, but the map must never hold a rejection unobserved.
      const run = this.round(ns.id, ns.origin, cp, fresh ? undefined : new Set(last!.cosigners))
        .catch((e: unknown) =>
          this.options.logger?.warn?.({ namespace: ns.id, err: errorMessage(e) }, 'cosigning round failed'),
        )
        .finally(() => this.inFlight.delete(ns.id));
      this.inFlight.set(ns.id, run);
    }
  }

  private witnesses(namespace: string): RegistryPeer[] {
    const others = this.options.registry.activeOthers(this.options.self);
    const self = this.options.selfWitness?.(namespace)
      ? this.options.registry.latest()?.peers.find((p) => p.id === this.options.self && p.status === 'active')
      : undefined;
    return (self ? [...others, self] : others).filter((p) => p.roles.includes('witness'));
  }

  private missing(namespace: string, last: NamespaceCosigning): RegistryPeer[] {
    return this.witnesses(namespace).filter((p) => !last.cosigners.includes(p.id));
  }

  /**
   * One cosigning round of one checkpoint with every witness peer (or those not in `already`);
   * resolves when all answered or timed out.
   */
  async round(
    namespace: string,
    origin: string,
    cp: PublishedCheckpoint,
    already?: ReadonlySet<string>,
  ): Promise<string[]> {
    const witnesses = this.witnesses(namespace).filter((p) => !already?.has(p.id));
    const started = performance.now();
    const results = await Promise.all(witnesses.map((p) => this.askWitness(p, namespace, origin, cp)));
    const cosigners = [...(already ?? []), ...witnesses.filter((_, i) => results[i]).map((p) => p.id)];
    const roundMs = performance.now() - started;
    this.options.metrics?.checkpointCosigners.set({ namespace }, cosigners.length);
    if (witnesses.length > 0 && !already) {
      this.options.metrics?.cosignRound.observe(roundMs / 1000);
      this.roundLatencies.push(roundMs);
      if (this.roundLatencies.length > 1000) this.roundLatencies.shift();
    }
    this.sentSize.set(namespace, cp.size);
    const prevRound = this.lastRound.get(namespace);
    this.lastRound.set(namespace, {
      namespace,
      size: cp.size,
      cosigners,
      roundMs: already && prevRound?.roundMs !== undefined ? prevRound.roundMs : Math.round(roundMs * 10) / 10,
      at: Date.now(),
    });
    return cosigners;
  }

  private async askWitness(
    peer: RegistryPeer,
    namespace: string,
    origin: string,
    cp: PublishedCheckpoint,
  ): Promise<boolean> {
    const key = `${peer.id}\n${origin}`;
    const state = this.peers.get(peer.id) ?? { peer: peer.id, reachable: false };
    this.peers.set(peer.id, state);
    const started = performance.now();
    try {
      let old = Math.min(this.witnessSize.get(key) ?? 0, cp.size);
      let conflict: PeerAnswer | undefined;
      for (let attempt = 0; attempt < 2; attempt++) {
        // Stopped between the first answer and the resend: the resend would outlive stop().
        if (this.stopped && attempt > 0) return false;
        const proof =
          old > 0 && old < cp.size ? await this.options.engine.consistencyProof(namespace, old, cp.size) : [];
        // The tlog-witness route is unauthenticated by design (the checkpoint's log signature is
        // the credential), so the request goes unsigned.
        const res = await peerFetch(peer, new URL('/v1/witness/add-checkpoint', peer.endpoint), {
          method: 'POST',
          headers: { 'content-type': 'text/plain; charset=utf-8' },
          body: formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: cp.note }),
          timeoutMs: this.timeoutMs,
          accept: [200, 409],
        });
        const text = res.text;
        state.reachable = true;
        state.lastLatencyMs = Math.round((performance.now() - started) * 10) / 10;
        if (res.status === 200) {
          await this.accept(peer, origin, cp, res);
          this.options.onCosignature?.(namespace);
          this.witnessSize.set(key, cp.size);
          state.lastSuccessAt = new Date().toISOString();
          this.options.metrics?.witnessRequests.inc({ peer: peer.id, result: 'cosigned' });
          delete state.lastError;
          return true;
        }
        if (res.status === 409) {
          // The witness holds another size for this origin: resend once from it (spec: the
          // client retries with the size the witness reports).
          let theirs: number;
          try {
            theirs = parseSizeResponse(text);
          } catch (cause) {
            throw malformedPeerAnswer(peer, res, 'a malformed size', cause);
          }
          if (theirs > cp.size)
            throw peerRefusal(peer, res.status, text, `witness holds size ${theirs}, beyond our checkpoint ${cp.size}`);
          this.witnessSize.set(key, theirs);
          old = theirs;
          conflict = res;
        }
      }
      throw peerRefusal(peer, 409, conflict?.text ?? '', 'witness kept answering 409');
    } catch (e) {
      state.lastError = errorMessage(e);
      this.options.metrics?.witnessRequests.inc({ peer: peer.id, result: 'failed' });
      // A witness that answered anything is up; one that gave no answer (refused connection,
      // reset, timeout) is not. Other errors (our store, a bad cosignature) say nothing of reachability.
      if (e instanceof PeerRequestError) {
        state.reachable = !isPeerSilent(e);
        if (e.answered) state.lastLatencyMs = Math.round((performance.now() - started) * 10) / 10;
      }
      this.options.logger?.warn?.({ peer: peer.id, origin, err: errorMessage(e) }, 'cosigning failed');
      return false;
    }
  }

  /**
   * Keeps the cosignatures that verify with the peer's registered witness key (during a rotation,
   * the key of the version in force or of the one before); others are ignored.
   */
  private async accept(peer: RegistryPeer, origin: string, cp: PublishedCheckpoint, answer: PeerAnswer): Promise<void> {
    const entries = this.options.registry.peerAcrossRotation(peer.id);
    const verifiers = (entries.length > 0 ? entries : [peer]).map((p) => CosignatureVerifier.fromVkey(p.witness_vkey));
    const body = cp.note.slice(0, cp.note.indexOf('\n\n') + 1);
    let sigs: ReturnType<typeof parseCosignatureResponse>;
    try {
      sigs = parseCosignatureResponse(answer.text);
    } catch (cause) {
      throw malformedPeerAnswer(peer, answer, 'a malformed cosignature response', cause);
    }
    for (const sig of sigs) {
      const verifier = verifiers.find((v) => v.name === sig.name && v.keyId === sig.keyId);
      if (!verifier) continue;
      const timestamp = verifyCosignature(body, sig, verifier);
      await this.options.store.addCosignature(
        origin,
        cp.size,
        base64Encode(cp.root),
        peer.id,
        formatSignatureLine(sig),
        timestamp,
      );
    }
  }
}
