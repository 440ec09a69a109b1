import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import type { FederationRegistry } from '../../federation/federation-registry.js';
import type { LogEngine, PublishedCheckpoint } from '../../log/log-engine.js';
import type { NamespaceDirectory, NamespaceRules } from '../../namespaces/namespace-directory.js';
import type { NodeMetrics } from '../../metrics/node-metrics.js';
import { QuotaGuard } from '../../namespaces/quota-guard.js';
import type { SchemaRegistry } from '../../namespaces/schema-registry.js';
import type { WriterAuthorization } from '../../namespaces/writer-authorization.js';
import type { InboxItem, InboxPage, InboxResult, InboxService, InboxVia, ReplyLinker } from '../messaging-wire.js';
import { DeliveryReceipts } from './delivery-receipts.js';
import { checkIncoming, refusalOf } from './incoming-message.js';
import { rowDelivery } from './inbox-rows.js';
import { reconcileInbox, type ReconcileReport } from './inbox-reconcile.js';
import type { InboxStorage } from './inbox-storage.js';
import { ItemWaiters } from './item-waiters.js';
import { KeyedQueue } from './keyed-queue.js';
import { MessageTrust } from './message-trust.js';
import { StreamApplier, type AdmitAppend, type StreamMessage } from './stream-applier.js';

/** How long an answer waits for a checkpoint covering its delivery records, ms (the checkpoint interval is 1 s). */
export const DEFAULT_RECEIPT_WAIT_MS = 3_000;
/**
 * How long an answer of `held` waits for the gap before it to fill, ms. A sender with several
 * requests of one stream under way may see a later one arrive first: its messages are applied a
 * moment later by the earlier one, and the answer says so instead of sending the sender back.
 */
export const DEFAULT_HELD_WAIT_MS = 1_000;
/** How often a held answer looks again, ms. */
const HELD_POLL_MS = 20;
/** Most items of one inbox page. */
export const MAX_INBOX_PAGE = 1_000;
/** Messages checked (signatures, proofs) between two turns of the event loop. */
export const VERIFIED_PER_SLICE = 32;

export interface InboxLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface InboxOptions {
  engine: LogEngine;
  /** This node's name: messages must be for `<nodeName>/<namespace>`; its own namespaces send with its own log key. */
  nodeName: string;
  /** Namespace rules (messaging, visibility, schema policy, limits). */
  directory: NamespaceDirectory;
  /** Validates `record` entries under the target's schema policy. */
  schemas: SchemaRegistry;
  /** Verifies writer signatures a `record` entry carries. */
  auth: WriterAuthorization;
  /** Source nodes' log keys and witnesses' keys (absent: no federation; only this node's namespaces send). */
  registry?: FederationRegistry;
  /** The note served for a checkpoint, cosignatures included (receipts of delivery records). */
  checkpointNote: (origin: string, checkpoint: PublishedCheckpoint) => string | Promise<string>;
  /** The outbox: answers to this namespace's own queries are accepted from their source whatever accept_from says. */
  replyLinker?: ReplyLinker;
  /**
   * Reserves the namespace's limits for the entries the inbox appends (default: the storage quota
   * alone, counted by a QuotaGuard of its own). A node passes its entry admission's, so quota
   * and rate are shared with its writers.
   */
  admit?: AdmitAppend;
  /** The inbox's state (openInboxStorage); the inbox owns it: closed with it, or when open() fails. */
  storage: InboxStorage;
  /** Milliseconds since the epoch (tests move it). */
  now?: () => number;
  /** How long an answer waits for a checkpoint covering its delivery records (DEFAULT_RECEIPT_WAIT_MS). */
  receiptWaitMs?: number;
  /** How long a `held` answer waits for an earlier seq to arrive (DEFAULT_HELD_WAIT_MS; 0: answer at once). */
  heldWaitMs?: number;
  /**
   * Whether open() reconciles (default true). A front end of a shared database that does not
   * hold the sequencing lease must not (the holder's deliveries in flight are not interrupted
   * ones): it calls recover() when it gets the lease, before it serves the inbox.
   */
  recoverAtOpen?: boolean;
  logger?: InboxLogger;
  /** Counts every result by status and refusal code. */
  metrics?: Pick<NodeMetrics, 'inboxMessages'>;
}

/**
 * The receiving side of cross-namespace messages (issue 12, items 3–7): verifies each travelling
 * message on its proof alone (incoming-message.ts), takes it into its stream exactly once per
 * (source origin, index) and applies the stream in seq order (stream-applier.ts), appends a
 * delivery record per applied message to the target's log, answers with that record's receipt,
 * and lists notify, query and invoke messages in the namespace's application inbox.
 *
 * Open it before the node serves: opening reconciles what a crash left half done against the
 * logs (inbox-reconcile.ts).
 */
export class Inbox implements InboxService {
  readonly #options: InboxOptions;
  readonly #storage: InboxStorage;
  readonly #trust: MessageTrust;
  readonly #streams = new KeyedQueue();
  readonly #applier: StreamApplier;
  readonly #receipts: DeliveryReceipts;
  readonly #waiters = new ItemWaiters();
  readonly #now: () => number;
  #reconciled: ReconcileReport = { applied: 0, held: 0, recorded: 0 };
  #closed = false;

  private constructor(options: InboxOptions) {
    this.#options = options;
    this.#storage = options.storage;
    this.#now = options.now ?? Date.now;
    this.#trust = new MessageTrust({
      nodeName: options.nodeName,
      engine: options.engine,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.#receipts = new DeliveryReceipts({
      engine: options.engine,
      checkpointNote: options.checkpointNote,
      ...(options.logger ? { logger: options.logger } : {}),
    });
    this.#applier = new StreamApplier({
      engine: options.engine,
      storage: options.storage,
      directory: options.directory,
      schemas: options.schemas,
      auth: options.auth,
      admit: options.admit ?? quotaAdmission(options.engine, options.directory),
      now: this.#now,
      onItems: (ns) => this.#waiters.notify(ns),
    });
  }

  /** Opens the inbox over its storage and reconciles it with the logs (unless told not to). */
  static async open(options: InboxOptions): Promise<Inbox> {
    const inbox = new Inbox(options);
    try {
      if (options.recoverAtOpen !== false) await inbox.recover();
    } catch (e) {
      await options.storage.close();
      throw e;
    }
    return inbox;
  }

  /** What reconciling found a crash had left (for logs and tests). */
  get reconciled(): ReconcileReport {
    return this.#reconciled;
  }

  /**
   * Resolves what a stop left half done against the logs (inbox-reconcile.ts). Only while no
   * delivery is under way: at open, or when a front end gets the lease before it serves.
   */
  async recover(): Promise<ReconcileReport> {
    const reconciled = await reconcileInbox(this.#storage, this.#options.engine);
    if (reconciled.applied + reconciled.held > 0)
      this.#options.logger?.info({ ...reconciled }, 'inbox: resolved deliveries a stop interrupted');
    this.#reconciled = reconciled;
    return reconciled;
  }

  async receive(namespace: string, messages: readonly unknown[], via: InboxVia): Promise<InboxResult[]> {
    const results = new Array<InboxResult>(messages.length);
    let rules: NamespaceRules;
    try {
      if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'the inbox is closed');
      rules = inboxTargetRules(this.#options.directory, namespace, via);
    } catch (e) {
      return this.count(messages.map(() => refusalOf(e)));
    }

    const streams = new Map<string, StreamMessage[]>();
    const refs = new Map<number, { origin: string; index: number; id: string }>();
    const ctx = {
      target: { node: this.#options.nodeName, namespace },
      rules,
      trust: this.#trust,
      nowMs: this.#now(),
      ...(this.#options.replyLinker ? { replyLinker: this.#options.replyLinker } : {}),
    };
    for (let pos = 0; pos < messages.length; pos++) {
      // Signatures and proofs are CPU work on attacker input: other requests get turns between slices.
      if (pos > 0 && pos % VERIFIED_PER_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const incoming = await checkIncoming(messages[pos], ctx);
      if (!incoming.ok) {
        results[pos] = incoming.result;
        continue;
      }
      const { origin, index, id } = incoming.proven;
      const list = streams.get(origin) ?? [];
      list.push({ pos, proven: incoming.proven });
      streams.set(origin, list);
      refs.set(pos, { origin, index, id });
    }

    await Promise.all(
      [...streams].map(async ([origin, list]) => {
        const out = await this.#streams.run(`${namespace}\n${origin}`, () =>
          this.#closed
            ? new Map(
                list.map((m) => [
                  m.pos,
                  refusalOf(new RemembrancerError('SHUTTING_DOWN', 'the inbox is closed'), m.proven.id),
                ]),
              )
            : this.#applier.apply(namespace, origin, list),
        );
        for (const [pos, result] of out) results[pos] = result;
      }),
    );
    await this.awaitHeld(results, refs);
    await this.attachReceipts(namespace, results);
    this.count(results);
    return results;
  }

  /**
   * Gives `held` answers a bounded moment for their gap to fill (by another delivery under way),
   * then answers what their rows say: applied meanwhile (duplicate, with its delivery), refused at
   * their turn, or still held.
   */
  private async awaitHeld(
    results: InboxResult[],
    refs: ReadonlyMap<number, { origin: string; index: number; id: string }>,
  ): Promise<void> {
    const waitMs = this.#options.heldWaitMs ?? DEFAULT_HELD_WAIT_MS;
    const deadline = Date.now() + waitMs;
    let held = results.flatMap((r, pos) => (r.status === 'held' ? [pos] : []));
    while (held.length > 0 && !this.#closed && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(HELD_POLL_MS, deadline - Date.now())));
      if (this.#closed) return;
      const still: number[] = [];
      for (const pos of held) {
        const { origin, index, id } = refs.get(pos)!;
        try {
          results[pos] = await this.#applier.resultNow(origin, index, id);
        } catch {
          continue; // the store closed under us: the answer stands as it was
        }
        if (results[pos].status === 'held') still.push(pos);
      }
      held = still;
    }
  }

  private count(results: InboxResult[]): InboxResult[] {
    const counter = this.#options.metrics?.inboxMessages;
    if (counter) for (const r of results) counter.inc({ status: r.status, code: r.error?.code ?? '' });
    return results;
  }

  /**
   * Waits (bounded) for a checkpoint covering every delivery record answered, then attaches each
   * record's receipt; records no checkpoint covered in time are answered without one (a later
   * delivery of the same message, answered as duplicate, carries it).
   */
  private async attachReceipts(namespace: string, results: InboxResult[]): Promise<void> {
    let highest = -1;
    for (const r of results) if (r.delivery && r.delivery.index > highest) highest = r.delivery.index;
    if (highest < 0) return;
    const cp = await this.#receipts.covering(
      namespace,
      highest,
      this.#options.receiptWaitMs ?? DEFAULT_RECEIPT_WAIT_MS,
    );
    const proof = this.#receipts.proofsUnder(namespace, cp);
    for (const r of results) {
      if (r.delivery) r.delivery = await proof(r.delivery.index, r.delivery.entry);
    }
  }

  async page(namespace: string, after: number, limit: number): Promise<InboxPage> {
    const n = Math.max(1, Math.min(MAX_INBOX_PAGE, Math.floor(limit)));
    const stored = await this.#storage.items(namespace, Math.max(0, Math.floor(after)), n);
    const items: InboxItem[] = [];
    const proof = this.#receipts.proofsUnder(namespace);
    for (const { cursor, row } of stored) {
      let delivery;
      try {
        delivery = await proof(row.deliveryIndex!, rowDelivery(row));
      } catch (e) {
        this.#options.logger?.error({ namespace, cursor, err: errorMessage(e) }, 'inbox item unreadable');
        throw e;
      }
      items.push({ cursor, message_id: row.messageId, message: JSON.parse(row.message) as unknown, delivery });
    }
    return { items, next: items.at(-1)?.cursor ?? after };
  }

  async waitForItems(namespace: string, after: number, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || (await this.#storage.lastCursor(namespace)) > after) return;
    await this.#waiters.wait(namespace, timeoutMs, signal);
  }

  /**
   * Ends every wait (long-polls, receipts) at once and closes the store. Deliveries under way
   * finish or fail with SHUTTING_DOWN; what they appended is reconciled at the next open.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiters.close();
    this.#receipts.close();
    await this.#storage.close();
  }
}

/**
 * The target namespace of a delivery: it exists, belongs to a tenant (`sys:` logs are the node's
 * own), and a private one is reached over a peer-authenticated request or from this node only —
 * a private namespace's messages never travel unauthenticated. Throws NAMESPACE_NOT_FOUND or
 * FORBIDDEN.
 */
export function inboxTargetRules(
  directory: Pick<NamespaceDirectory, 'rules'>,
  namespace: string,
  via: InboxVia,
): NamespaceRules {
  const rules = directory.rules(namespace);
  if (!rules) throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
  if (rules.system)
    throw new RemembrancerError('FORBIDDEN', `${namespace} is the node's own log: it receives no messages`);
  if (via.kind === 'public' && rules.spec.visibility === 'private') {
    throw new RemembrancerError(
      'FORBIDDEN',
      `${namespace} is private: messages to it travel only over the peer-authenticated route (POST /v1/federation/peer/ns/{ns}/inbox)`,
    );
  }
  return rules;
}

/** The default AdmitAppend: the namespace's storage quota, counted by a guard of the inbox's own. */
function quotaAdmission(engine: LogEngine, directory: NamespaceDirectory): AdmitAppend {
  const quota = new QuotaGuard(engine);
  return (namespace, entries) => {
    const rules = directory.rules(namespace);
    if (!rules) throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
    let bytes = 0;
    for (const e of entries) bytes += e.length;
    return quota.reserve(namespace, entries.length, bytes, rules.spec.limits);
  };
}
