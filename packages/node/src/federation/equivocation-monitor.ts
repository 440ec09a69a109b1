import {
  EMPTY_ROOT,
  MAX_CONSISTENCY_PROOF_HASHES,
  MAX_EVIDENCE_NOTE_LENGTH,
  base64Decode,
  base64Encode,
  buildEquivocationEvidence,
  bytesEqual,
  errorMessage,
  isConsistencyValid,
  isRemembrancerError,
  logVerifierForOrigin,
  openCheckpoint,
  parseCheckpoint,
  parseNote,
  peerForOrigin,
  prefixRootFromConsistencyProof,
  type RegistryPeer,
  type UnsignedEquivocationEvidence,
} from '@vaultmesh/core';
import type { LogEngineLogger } from '../log/logger.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { WitnessConflict } from '../witness/witness-store.js';
import type { EvidenceLedger } from './evidence-ledger.js';
import type { FederationRegistry } from './federation-registry.js';
import {
  PeerRequestError,
  peerAnswerJson,
  peerConsistencyProofPath,
  peerRequest,
  peerRootPath,
  type PeerCredentials,
} from './peer-client.js';

/** A checkpoint whose log signature verified with the registry's key for its origin. */
export interface ObservedCheckpoint {
  readonly origin: string;
  readonly size: number;
  readonly root: Uint8Array;
  /** The signed note as received (cosignatures included). */
  readonly note: string;
  /** The registry peer whose log it is. */
  readonly peer: string;
}

/** An origin whose node could not prove two of its signed checkpoints consistent, nor be shown to have forked. */
export interface Suspect {
  readonly origin: string;
  readonly peer: string;
  /** The two checkpoint sizes that could not be reconciled. */
  readonly sizes: readonly [number, number];
  readonly reason: string;
  /** Where the checkpoint that could not be reconciled was seen: a peer id, or `witness`. */
  readonly seenAt: string;
  readonly since: string;
  lastCheckedAt: string;
}

/**
 * - consistent: no conflict with anything known;
 * - evidence: the origin is proven to equivocate (now or before);
 * - suspect: the origin's node failed to prove consistency (see Suspect);
 * - undecided: the origin's node could not be asked (unreachable); tried again on the next sight;
 * - ignored: not a verifiable checkpoint of another registry peer's log.
 */
export type Verdict = 'consistent' | 'evidence' | 'suspect' | 'undecided' | 'ignored';

export interface EquivocationMonitorOptions {
  self: string;
  registry: FederationRegistry;
  ledger: EvidenceLedger;
  /** The latest checkpoint this node's witness cosigned for an origin (Witness.checkpointFor). */
  witnessed?: (origin: string) => Promise<{ readonly note: string } | undefined>;
  /** Signs the proof requests to origin nodes. */
  creds: PeerCredentials;
  /** Bound on each request to an origin's node, ms (default 1000). */
  timeoutMs?: number;
  /** How long a suspect stays listed without being seen again, ms (default 10 minutes). */
  suspectTtlMs?: number;
  now?: () => Date;
  metrics?: NodeMetrics;
  logger?: LogEngineLogger;
}

const MAX_CACHED = 4096;

type OriginAnswer<T> =
  { kind: 'ok'; value: T } | { kind: 'unreachable'; message: string } | { kind: 'failed'; message: string };

/** A Map used as a bounded cache: the oldest entries go first. */
function remember<K, V>(map: Map<K, V>, key: K, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > MAX_CACHED) map.delete(map.keys().next().value as K);
}

function pairKey(small: ObservedCheckpoint, large: ObservedCheckpoint): string {
  return `${small.origin}\n${small.size}\n${base64Encode(small.root)}\n${large.size}\n${base64Encode(large.root)}`;
}

function hashList(v: unknown, max: number): Uint8Array[] | undefined {
  if (!Array.isArray(v) || v.length > max) return undefined;
  const out: Uint8Array[] = [];
  for (const h of v) {
    if (typeof h !== 'string') return undefined;
    let raw: Uint8Array;
    try {
      raw = base64Decode(h);
    } catch {
      return undefined;
    }
    if (raw.length !== 32) return undefined;
    out.push(raw);
  }
  return out;
}

/**
 * Split-view detection. Every checkpoint this node sees of another peer's log (from gossip, or
 * offered to its own witness) is compared with what it already knows of that origin: the latest
 * checkpoint its witness cosigned and the latest one seen through gossip. Equal sizes with
 * different roots are evidence at once. Different sizes are settled by the origin's own node: a
 * consistency proof from the smaller to the larger size, which either verifies (fine), or reaches
 * the larger signed root from another prefix root (evidence, with that proof), or cannot be
 * produced at all (a suspect: shown in status, no evidence, since a failing proof proves nothing).
 * A node trusts its own log, so its own origins are not checked.
 */
export class EquivocationMonitor {
  private readonly timeoutMs: number;
  private readonly suspectTtlMs: number;
  private readonly now: () => Date;
  /** origin → the largest checkpoint seen through gossip that was consistent with everything known. */
  private readonly latest = new Map<string, ObservedCheckpoint>();
  /** Pairs of checkpoints proven consistent: never asked about again. */
  private readonly consistentPairs = new Map<string, true>();
  /** note text → its verified contents; the same notes come back every gossip round. */
  private readonly opened = new Map<string, ObservedCheckpoint>();
  private readonly suspectsByOrigin = new Map<string, Suspect>();
  /** origin → the pair key of its suspect, cleared if that pair is proven consistent later. */
  private readonly suspectPairs = new Map<string, string>();
  /** origin → the check under way, so the checks of one origin never interleave. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** peer id → until when (ms) it is not asked again, after it did not answer. */
  private readonly quietUntil = new Map<string, number>();

  constructor(private readonly options: EquivocationMonitorOptions) {
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.suspectTtlMs = options.suspectTtlMs ?? 10 * 60_000;
    this.now = options.now ?? (() => new Date());
    // A new registry version may rotate keys or settle evidence: what was learnt under the old one
    // is learnt again under the new one.
    options.registry.on('change', this.onRegistryChange);
    options.ledger.on('evidence', this.onEvidence);
  }

  private readonly onRegistryChange = (): void => {
    this.latest.clear();
    this.consistentPairs.clear();
    this.opened.clear();
    this.suspectsByOrigin.clear();
    this.suspectPairs.clear();
    this.options.metrics?.gossipSuspects.set(0);
  };

  // Proven, by whoever: no longer merely suspected.
  private readonly onEvidence = (accepted: { subject: string }): void => this.clearSuspect(accepted.subject);

  /** Stops listening to the registry and the ledger; checks under way finish on their own. */
  stop(): void {
    this.options.registry.off('change', this.onRegistryChange);
    this.options.ledger.off('evidence', this.onEvidence);
  }

  /**
   * Checks a checkpoint note seen at `from` (a peer id, or `witness`) against what this node
   * knows of its origin. `note` is attacker-controlled; notes that do not verify are ignored.
   */
  observe(note: string, from: string): Promise<Verdict> {
    const cp = this.open(note);
    if (!cp) return Promise.resolve('ignored');
    return this.serialized(cp.origin, async () => {
      if (this.options.ledger.refused(cp.origin)) return 'evidence';
      let verdict: Verdict = 'consistent';
      for (const ref of await this.references(cp.origin)) {
        const v = await this.compare(cp, ref, from);
        if (v === 'evidence') return v;
        if (v === 'suspect' || (v === 'undecided' && verdict === 'consistent')) verdict = v;
      }
      if (verdict === 'consistent') {
        const prev = this.latest.get(cp.origin);
        if (!prev || cp.size > prev.size) this.latest.set(cp.origin, cp);
      }
      return verdict;
    });
  }

  /**
   * A checkpoint offered to this node's witness that conflicts with the one it cosigned (the
   * witness's onConflict event): same size and another root is evidence at once; a failing
   * consistency proof is evidence if it is the log's own proof of a different history, and is
   * otherwise settled with the origin's node as in observe.
   */
  onWitnessConflict(conflict: WitnessConflict): Promise<Verdict> {
    const stored = this.open(conflict.storedNote);
    const offered = this.open(conflict.offeredNote);
    if (!stored || !offered || stored.origin !== offered.origin) return Promise.resolve('ignored');
    return this.serialized(offered.origin, async () => {
      if (this.options.ledger.refused(offered.origin)) return 'evidence';
      return this.compare(offered, stored, 'witness', conflict.proof.length > 0 ? conflict.proof : undefined);
    });
  }

  /** Origins currently suspected, oldest first. */
  suspects(): Suspect[] {
    const cutoff = this.now().getTime() - this.suspectTtlMs;
    for (const [origin, s] of this.suspectsByOrigin) {
      if (Date.parse(s.lastCheckedAt) < cutoff) this.clearSuspect(origin);
    }
    this.options.metrics?.gossipSuspects.set(this.suspectsByOrigin.size);
    return [...this.suspectsByOrigin.values()];
  }

  /** The latest checkpoint of `origin` seen through gossip and found consistent. */
  latestSeen(origin: string): ObservedCheckpoint | undefined {
    return this.latest.get(origin);
  }

  /** Verifies a note against the registry's log key for its origin; undefined if it is none of ours to check. */
  open(note: string): ObservedCheckpoint | undefined {
    if (typeof note !== 'string' || note.length > MAX_EVIDENCE_NOTE_LENGTH) return undefined;
    const cached = this.opened.get(note);
    if (cached) return cached;
    const reg = this.options.registry.latest();
    if (!reg) return undefined;
    let origin: string;
    try {
      origin = parseCheckpoint(parseNote(note).text).origin;
    } catch {
      return undefined;
    }
    const peer = peerForOrigin(reg, origin);
    if (!peer || peer.id === this.options.self) return undefined;
    try {
      const { checkpoint } = openCheckpoint(note, logVerifierForOrigin(peer, origin));
      const cp: ObservedCheckpoint = { origin, size: checkpoint.size, root: checkpoint.root, note, peer: peer.id };
      remember(this.opened, note, cp);
      return cp;
    } catch {
      return undefined;
    }
  }

  private async references(origin: string): Promise<ObservedCheckpoint[]> {
    const refs: ObservedCheckpoint[] = [];
    const w = await this.options.witnessed?.(origin);
    const fromWitness = w ? this.open(w.note) : undefined;
    if (fromWitness) refs.push(fromWitness);
    const seen = this.latest.get(origin);
    if (seen && !(fromWitness && fromWitness.size === seen.size && bytesEqual(fromWitness.root, seen.root)))
      refs.push(seen);
    return refs;
  }

  private serialized<T>(origin: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(origin) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(origin, tail);
    void tail.then(() => {
      if (this.queues.get(origin) === tail) this.queues.delete(origin);
    });
    return run;
  }

  /** `a` was seen at `source`; `b` is what this node knew. */
  private async compare(
    a: ObservedCheckpoint,
    b: ObservedCheckpoint,
    source: string,
    knownProof?: readonly Uint8Array[],
  ): Promise<Verdict> {
    if (a.size === b.size) {
      if (bytesEqual(a.root, b.root)) return 'consistent';
      return this.evidence(a, b);
    }
    const [small, large] = a.size < b.size ? [a, b] : [b, a];
    if (small.size === 0) return bytesEqual(small.root, EMPTY_ROOT) ? 'consistent' : 'ignored';
    const key = pairKey(small, large);
    if (this.consistentPairs.has(key)) return 'consistent';

    if (knownProof) {
      if (isConsistencyValid(small.size, large.size, knownProof, small.root, large.root))
        return this.consistent(key, small.origin);
      const v = await this.evidenceFromProof(small, large, knownProof);
      if (v === 'evidence') return v;
    }

    const answer = await this.consistencyProof(small.origin, small.size, large.size);
    if (answer.kind === 'unreachable') return 'undecided';
    if (answer.kind === 'failed') return this.suspect(small, large, source, answer.message);
    const proof = answer.value;
    if (isConsistencyValid(small.size, large.size, proof, small.root, large.root))
      return this.consistent(key, small.origin);
    const v = await this.evidenceFromProof(small, large, proof);
    if (v === 'evidence' || v === 'undecided') return v;
    return this.suspect(
      small,
      large,
      source,
      `the origin's consistency proof from ${small.size} to ${large.size} verifies with neither signed root`,
    );
  }

  /** Evidence if the proof reaches the larger signed root from a prefix root other than the smaller one's. */
  private async evidenceFromProof(
    small: ObservedCheckpoint,
    large: ObservedCheckpoint,
    proof: readonly Uint8Array[],
  ): Promise<Verdict> {
    let prefixRoot = prefixRootFromConsistencyProof(small.size, large.size, proof);
    if (prefixRoot === undefined) {
      // The smaller size is a power of two: the proof implies the prefix root instead of carrying
      // it. The origin's node tells it, and the proof check in buildEquivocationEvidence confirms it.
      const answer = await this.prefixRootFromOrigin(small.origin, small.size);
      if (answer.kind === 'unreachable') return 'undecided';
      if (answer.kind === 'failed') return 'suspect';
      prefixRoot = answer.value;
    }
    let unsigned: UnsignedEquivocationEvidence;
    try {
      unsigned = this.build(small, large, { consistencyProof: proof, prefixRoot });
    } catch (e) {
      if (isRemembrancerError(e, 'EVIDENCE_INVALID')) return 'suspect';
      throw e;
    }
    return this.report(unsigned);
  }

  private evidence(a: ObservedCheckpoint, b: ObservedCheckpoint): Promise<Verdict> {
    return this.report(this.build(a, b, {}));
  }

  private build(
    a: ObservedCheckpoint,
    b: ObservedCheckpoint,
    extra: { consistencyProof?: readonly Uint8Array[]; prefixRoot?: Uint8Array },
  ): UnsignedEquivocationEvidence {
    const reg = this.options.registry.latest()!;
    const peer = peerForOrigin(reg, a.origin) as RegistryPeer;
    return buildEquivocationEvidence({
      detectedBy: this.options.self,
      detectedAt: this.now().toISOString(),
      checkpoints: [a.note, b.note],
      logVerifier: logVerifierForOrigin(peer, a.origin),
      ...extra,
    });
  }

  private async report(unsigned: UnsignedEquivocationEvidence): Promise<Verdict> {
    this.clearSuspect(unsigned.origin);
    // Evidence from another detector may have arrived meanwhile; one proof per origin is enough.
    if (this.options.ledger.refused(unsigned.origin)) return 'evidence';
    const accepted = await this.options.ledger.report(unsigned);
    this.options.logger?.warn(
      { origin: unsigned.origin, reason: unsigned.reason, digest: accepted.digest },
      'equivocation detected',
    );
    return 'evidence';
  }

  private consistent(key: string, origin: string): Verdict {
    remember(this.consistentPairs, key, true);
    if (this.suspectPairs.get(origin) === key) this.clearSuspect(origin);
    return 'consistent';
  }

  private clearSuspect(origin: string): void {
    this.suspectsByOrigin.delete(origin);
    this.suspectPairs.delete(origin);
    this.options.metrics?.gossipSuspects.set(this.suspectsByOrigin.size);
  }

  private suspect(small: ObservedCheckpoint, large: ObservedCheckpoint, seenAt: string, reason: string): Verdict {
    const at = this.now().toISOString();
    const key = pairKey(small, large);
    const prev = this.suspectsByOrigin.get(small.origin);
    if (prev && this.suspectPairs.get(small.origin) === key) {
      prev.lastCheckedAt = at;
    } else {
      this.suspectPairs.set(small.origin, key);
      this.suspectsByOrigin.set(small.origin, {
        origin: small.origin,
        peer: small.peer,
        sizes: [small.size, large.size],
        reason,
        seenAt,
        since: at,
        lastCheckedAt: at,
      });
      this.options.logger?.warn(
        { origin: small.origin, sizes: [small.size, large.size], seen_at: seenAt, reason },
        'log suspected of a split view: its node cannot prove two of its checkpoints consistent',
      );
    }
    this.options.metrics?.gossipSuspects.set(this.suspectsByOrigin.size);
    return 'suspect';
  }

  /**
   * The consistency proof from the origin's node, over the peer-authenticated route (hashes only),
   * which serves private namespaces too: the public proof route would want a read token, and an
   * honest node answering 401 would be listed as a suspect. Its answer is attacker-controlled.
   */
  private async consistencyProof(origin: string, from: number, to: number): Promise<OriginAnswer<Uint8Array[]>> {
    const answer = await this.askOrigin(origin, (ns) => peerConsistencyProofPath(ns, from, to));
    if (answer.kind !== 'ok') return answer;
    const body = answer.value as { proof?: unknown } | null;
    const proof = hashList(body?.proof, MAX_CONSISTENCY_PROOF_HASHES);
    return proof
      ? { kind: 'ok', value: proof }
      : { kind: 'failed', message: `the origin's consistency proof from ${from} to ${to} is malformed` };
  }

  /** The origin tree's root at `size`, from the origin's node over the peer-authenticated route. */
  private async prefixRootFromOrigin(origin: string, size: number): Promise<OriginAnswer<Uint8Array>> {
    const answer = await this.askOrigin(origin, (ns) => peerRootPath(ns, size));
    if (answer.kind !== 'ok') return answer;
    const root = hashList([(answer.value as { root?: unknown } | null)?.root], 1);
    return root
      ? { kind: 'ok', value: root[0]! }
      : { kind: 'failed', message: `the origin's root at size ${size} is malformed` };
  }

  private async askOrigin(origin: string, path: (ns: string) => string): Promise<OriginAnswer<unknown>> {
    const reg = this.options.registry.latest();
    const peer = reg ? peerForOrigin(reg, origin) : undefined;
    if (!peer) return { kind: 'failed', message: `no registry peer keeps ${origin}` };
    const ns = origin.slice(peer.id.length + 1);
    // A node that just failed to answer is not asked again at once: every check waiting for it
    // would wait a whole timeout, round after round.
    if ((this.quietUntil.get(peer.id) ?? 0) > Date.now())
      return { kind: 'unreachable', message: `${peer.id} did not answer recently` };
    try {
      const res = await peerRequest(peer, this.options.creds, 'GET', path(ns), { timeoutMs: this.timeoutMs });
      this.quietUntil.delete(peer.id);
      return { kind: 'ok', value: peerAnswerJson(peer, res) };
    } catch (e) {
      // An answer that refuses or makes no sense is the origin failing to prove; only silence
      // (unreachable, or no full answer in time) leaves the question open.
      if (e instanceof PeerRequestError && e.answered) {
        this.quietUntil.delete(peer.id);
        return { kind: 'failed', message: e.message };
      }
      this.quietUntil.set(peer.id, Date.now() + this.timeoutMs);
      return { kind: 'unreachable', message: errorMessage(e) };
    }
  }
}
