import { EventEmitter } from 'node:events';
import {
  EPOCH_EVIDENCE_TYPE,
  RemembrancerError,
  canonicalBytes,
  crypto,
  errorMessage,
  isRemembrancerError,
  signEpochEquivocationEvidence,
  signEvidence,
  toHex,
  verifyEpochEquivocationWithRegistry,
  verifyEvidenceWithRegistry,
  type EpochEquivocationEvidence,
  type EpochStatement,
  type EquivocationEvidence,
  type RegistryPeer,
  type UnsignedEpochEquivocationEvidence,
  type UnsignedEquivocationEvidence,
} from '@vaultmesh/core';
import type { LogEngineLogger } from '../log/logger.js';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import type { FederationRegistry } from './federation-registry.js';
import type { StoredEvidence } from './federation-records.js';
import type { FederationStorage } from './federation-storage.js';
import { PeerRequestError, peerRequest, type PeerCredentials } from './peer-client.js';
import { settleWithin } from './settle-within.js';

/** The evidence push route: peers POST evidence documents here (peer-authenticated). */
export const EVIDENCE_PATH = '/v1/federation/evidence';

export interface EvidenceLedgerOptions {
  store: FederationStorage;
  registry: FederationRegistry;
  /** This node's name: the `detected_by` of evidence it makes. */
  self: string;
  /**
   * This node's auth key: signs the evidence it makes and the pushes to peers (RFC 9421). Read at
   * each use, so a key rotation that updates the object in place takes effect at once.
   */
  creds: PeerCredentials;
  /** Bound on each push, ms (default 1000). */
  timeoutMs?: number;
  now?: () => Date;
  metrics?: NodeMetrics;
  logger?: LogEngineLogger;
}

/** Either kind of evidence a ledger holds: a log's two histories, or a node's two roots for one epoch. */
export type FederationEvidence = EquivocationEvidence | EpochEquivocationEvidence;

export interface AcceptedEvidence {
  /** `new`: stored now; `known`: held already. */
  outcome: 'new' | 'known';
  digest: string;
  evidence: FederationEvidence;
  /** Whom it is against: the log's origin, or for epoch evidence the node that signed twice. */
  subject: string;
}

export function isEpochEvidence(doc: unknown): doc is EpochEquivocationEvidence {
  return (doc as { type?: unknown } | null)?.type === EPOCH_EVIDENCE_TYPE;
}

/**
 * The epoch a statement is of, as epoch evidence is indexed: one node signs one root per
 * (federation, target, epoch, mode, node).
 */
export function epochEvidenceKey(
  s: Pick<EpochStatement, 'federation_id' | 'target' | 'epoch' | 'mode' | 'node'>,
): string {
  return `${s.federation_id}|${s.target}|${s.epoch}|${s.mode}|${s.node ?? ''}`;
}

/** Errors that mean "this document proves nothing", as opposed to a fault of this node. */
const INVALID_EVIDENCE_CODES = new Set([
  'EVIDENCE_INVALID',
  'SIGNATURE_INVALID',
  'SIGNATURE_MISSING',
  'REGISTRY_INVALID',
  'ORIGIN_MISMATCH',
  'VKEY_MALFORMED',
  'NOTE_MALFORMED',
  'CHECKPOINT_MALFORMED',
  'INVALID_ARGUMENT',
  'INVALID_ENCODING',
]);

/** Lowercase hex SHA-256 of the evidence's JCS bytes: its identity in the store and on the wire. */
export function evidenceDigest(evidence: FederationEvidence): string {
  return toHex(crypto.sha256(canonicalBytes(evidence)));
}

/**
 * The equivocation evidence this node holds: every document is verified against the registry in
 * force before it is stored (whoever made it), stored once, pushed to every active peer until each
 * acknowledged it, and while it was accepted under the registry version still in force, the
 * witness refuses to cosign its origin. A newer registry version settles it: the peers decided
 * (suspended the offender, rotated its key, or kept it knowingly). Epoch evidence (a node signed
 * two roots for one epoch) is held, served and pushed alike; its signer's signatures on that
 * epoch no longer count towards a quorum (epochOffenders), whatever the registry version.
 */
export class EvidenceLedger extends EventEmitter<{ evidence: [AcceptedEvidence] }> {
  private readonly timeoutMs: number;
  private readonly now: () => Date;
  /** origin → registry versions under which evidence for it was accepted; read on every witness request. */
  private readonly versionsByOrigin = new Map<string, Set<number>>();
  /** epochEvidenceKey → the nodes proven to have signed two roots for that epoch. */
  private readonly offendersByEpoch = new Map<string, Set<string>>();
  private count = 0;
  /** Digests of the documents remembered (refused origins, offenders, count): each is remembered once. */
  private readonly known = new Set<string>();
  private pushing: Promise<void> | undefined;
  private pushAgain = false;
  private closed = false;
  /** (digest, peer, status) refusals already logged: retried every round, logged once. */
  private readonly loggedRefusals = new Set<string>();

  private constructor(private readonly options: EvidenceLedgerOptions) {
    super();
    this.timeoutMs = options.timeoutMs ?? 1000;
    this.now = options.now ?? (() => new Date());
  }

  /** Loads what the evidence held says (refused origins, epoch offenders) and starts following the registry. */
  static async open(options: EvidenceLedgerOptions): Promise<EvidenceLedger> {
    const ledger = new EvidenceLedger(options);
    await ledger.reload();
    options.registry.on('change', ledger.onRegistryChange);
    return ledger;
  }

  /** Takes in the evidence stored, including what another front end of a shared database stored. */
  async reload(): Promise<void> {
    for (const e of await this.options.store.evidence()) this.remember(e.digest, e.doc, e.origin, e.registryVersion);
    this.updateGauges();
  }

  private readonly onRegistryChange = (): void => this.updateGauges();

  /**
   * Verifies evidence (parsed JSON from a peer: attacker-controlled) with the registry in force
   * and stores it if new. `from` is the peer that sent it, which needs no push back. Throws
   * EVIDENCE_INVALID when the document proves nothing (bad form, unknown detector or origin,
   * forged signature, checkpoints that do not conflict). Of concurrent calls with one document,
   * on any front end, exactly one finds it new (the storage's addEvidence decides).
   */
  async accept(json: unknown, from?: string): Promise<AcceptedEvidence> {
    const reg = this.options.registry.latest();
    if (!reg)
      throw new RemembrancerError(
        'FORBIDDEN',
        'this node is in no federation: it has no registry to verify evidence with',
      );
    let evidence: FederationEvidence;
    try {
      // Epoch statements name the registry version whose keys signed them, which may be older.
      evidence = isEpochEvidence(json)
        ? verifyEpochEquivocationWithRegistry(json, this.options.registry.versions())
        : verifyEvidenceWithRegistry(json, reg).evidence;
    } catch (e) {
      if (isRemembrancerError(e) && INVALID_EVIDENCE_CODES.has(e.code)) {
        throw new RemembrancerError(
          'EVIDENCE_INVALID',
          e.code === 'EVIDENCE_INVALID' ? e.message : `equivocation evidence does not verify: ${e.message}`,
          { cause: e },
        );
      }
      throw e;
    }
    const digest = evidenceDigest(evidence);
    const subject = isEpochEvidence(evidence) ? evidence.signer : evidence.origin;
    const at = this.now().toISOString();
    // The store's origin column holds the subject: for epoch evidence, the node that signed twice.
    const isNew = await this.options.store.addEvidence(digest, subject, evidence, at, reg.version);
    // Whoever made or relayed it holds it already.
    for (const peer of new Set([evidence.detected_by, ...(from === undefined ? [] : [from])])) {
      if (peer !== this.options.self) await this.options.store.markEvidenceDelivered(digest, peer, at);
    }
    const accepted: AcceptedEvidence = { outcome: isNew ? 'new' : 'known', digest, evidence, subject };
    if (isNew) {
      this.remember(digest, evidence, subject, reg.version);
      this.updateGauges();
      if (isEpochEvidence(evidence))
        this.options.logger?.warn(
          {
            signer: subject,
            target: evidence.statements[0].target,
            epoch: evidence.statements[0].epoch,
            roots: evidence.statements.map((s) => s.root),
            detected_by: evidence.detected_by,
            digest,
          },
          "epoch equivocation evidence accepted: the node's signatures on that epoch no longer count",
        );
      else
        this.options.logger?.warn(
          {
            origin: evidence.origin,
            reason: evidence.reason,
            detected_by: evidence.detected_by,
            digest,
            registry_version: reg.version,
          },
          'equivocation evidence accepted: the witness refuses this log until a registry update settles it',
        );
      this.emit('evidence', accepted);
      void this.pushPending();
    }
    return accepted;
  }

  /** Signs evidence this node found with its auth key, then accepts (stores and pushes) it. */
  async report(unsigned: UnsignedEquivocationEvidence): Promise<AcceptedEvidence> {
    const signed = signEvidence(unsigned, this.options.creds.seed);
    const accepted = await this.accept(signed);
    if (accepted.outcome === 'new') this.options.metrics?.equivocationDetected.inc();
    return accepted;
  }

  /** Signs epoch evidence this node found with its auth key, then accepts (stores and pushes) it. */
  async reportEpoch(unsigned: UnsignedEpochEquivocationEvidence): Promise<AcceptedEvidence> {
    const accepted = await this.accept(signEpochEquivocationEvidence(unsigned, this.options.creds.seed));
    if (accepted.outcome === 'new') this.options.metrics?.equivocationDetected.inc();
    return accepted;
  }

  /**
   * The nodes with evidence held that they signed two roots for the statement's epoch: their
   * signatures on it count towards no root's quorum.
   */
  epochOffenders(s: Pick<EpochStatement, 'federation_id' | 'target' | 'epoch' | 'mode' | 'node'>): ReadonlySet<string> {
    return this.offendersByEpoch.get(epochEvidenceKey(s)) ?? new Set();
  }

  /**
   * True while evidence against `origin` accepted under the registry version in force is held:
   * the witness then refuses that log's checkpoints (RegistryWitnessLogs).
   */
  refused(origin: string): boolean {
    const version = this.options.registry.latest()?.version;
    return version !== undefined && this.versionsByOrigin.get(origin)?.has(version) === true;
  }

  /** Origins refused now. */
  refusedOrigins(): string[] {
    return [...this.versionsByOrigin.keys()].filter((o) => this.refused(o)).sort();
  }

  /** Every evidence document held, oldest first. */
  list(origin?: string): Promise<StoredEvidence[]> {
    return this.options.store.evidence(origin);
  }

  size(): number {
    return this.count;
  }

  /**
   * Pushes every document accepted under the registry in force to each active peer that is not
   * known to hold it; peers that do not acknowledge (200 or 201) are tried again on the next call
   * (the gossip tick). One push pass at a time; a call during a pass schedules one more pass.
   */
  pushPending(): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (this.pushing) {
      this.pushAgain = true;
      return this.pushing;
    }
    this.pushing = (async () => {
      try {
        do {
          this.pushAgain = false;
          await this.pushOnce().catch((err: unknown) => {
            if (!this.closed)
              this.options.logger?.error({ err: errorMessage(err) }, 'equivocation evidence push pass failed');
          });
        } while (this.pushAgain && !this.closed);
      } finally {
        this.pushing = undefined;
      }
    })();
    return this.pushing;
  }

  /**
   * Stops pushing; waits for a push pass under way. A pass stops before its next push once closed,
   * so one push timeout is enough; the bound of two is a margin for the store writes around it.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.options.registry.off('change', this.onRegistryChange);
    const pass = this.pushing;
    if (pass) await settleWithin([pass], this.timeoutMs * 2);
  }

  private async pushOnce(): Promise<void> {
    const reg = this.options.registry.latest();
    if (!reg) return;
    const held = await this.options.store.evidence();
    // Documents another front end of a shared database accepted: this one refuses their origins
    // (and discounts their signers) from the next pass on, as if it had accepted them itself.
    const learned = held.filter((e) => !this.known.has(e.digest));
    for (const e of learned) this.remember(e.digest, e.doc, e.origin, e.registryVersion);
    if (learned.length > 0) this.updateGauges();
    const current = held.filter((e) => e.registryVersion === reg.version);
    if (current.length === 0) return;
    const peers = this.options.registry.activeOthers(this.options.self);
    await Promise.all(
      peers.map(async (peer) => {
        // One peer's documents in order: a slow peer holds up only itself.
        for (const e of current) {
          if (this.closed) return;
          if ((await this.options.store.evidenceDeliveries(e.digest)).includes(peer.id)) continue;
          if (!(await this.pushTo(peer, e))) return;
        }
      }),
    );
  }

  /** False if the peer gave no answer (the rest of its documents wait for the next pass). */
  private async pushTo(peer: RegistryPeer, e: StoredEvidence): Promise<boolean> {
    try {
      await peerRequest(peer, this.options.creds, 'POST', EVIDENCE_PATH, {
        body: e.doc,
        timeoutMs: this.timeoutMs,
        accept: [200, 201],
      });
      await this.options.store.markEvidenceDelivered(e.digest, peer.id, this.now().toISOString());
      return true;
    } catch (err) {
      if (this.closed) return false;
      if (err instanceof PeerRequestError && err.answered) {
        // The peer answered but did not take it, e.g. a peer still on an older registry version;
        // it is asked again every round, and its next documents are offered meanwhile.
        const key = `${e.digest}\n${peer.id}\n${err.status}`;
        if (!this.loggedRefusals.has(key)) {
          this.loggedRefusals.add(key);
          this.options.logger?.warn(
            {
              peer: peer.id,
              origin: e.origin,
              digest: e.digest,
              status: err.status,
              peer_code: err.peerCode,
              err: err.message,
            },
            'peer did not take equivocation evidence',
          );
        }
        return true;
      }
      this.options.logger?.warn(
        { peer: peer.id, origin: e.origin, err: errorMessage(err) },
        'equivocation evidence push failed; retried next gossip round',
      );
      return false;
    }
  }

  private remember(digest: string, doc: unknown, subject: string, version: number): void {
    if (this.known.has(digest)) return;
    this.known.add(digest);
    this.count++;
    if (isEpochEvidence(doc)) {
      const key = epochEvidenceKey(doc.statements[0]);
      let offenders = this.offendersByEpoch.get(key);
      if (!offenders) this.offendersByEpoch.set(key, (offenders = new Set()));
      offenders.add(subject);
      return;
    }
    let versions = this.versionsByOrigin.get(subject);
    if (!versions) this.versionsByOrigin.set(subject, (versions = new Set()));
    versions.add(version);
  }

  private updateGauges(): void {
    this.options.metrics?.equivocationEvidence.set(this.count);
    this.options.metrics?.refusedOrigins.set(this.refusedOrigins().length);
  }
}
