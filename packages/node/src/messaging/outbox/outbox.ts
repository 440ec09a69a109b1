import {
  RemembrancerError,
  buildReceipt,
  errorMessage,
  utf8Decode,
  type MessageEndpoint,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { FederationRegistry } from '../../federation/federation-registry.js';
import type { PeerCredentials } from '../../federation/peer-client.js';
import type { LogEngine, PublishedCheckpoint } from '../../log/log-engine.js';
import type { EntryAdmission } from '../../namespaces/entry-admission.js';
import type { Sealing } from '../../namespaces/sealing.js';
import type { InboxReceiver, MessageStatusView, OutboxService, ReplyLinker, SentMessage } from '../messaging-wire.js';
import { NamespaceAppendQueue } from './append-queue.js';
import { DeliveryWorker, type OutboxLogger } from './delivery-worker.js';
import { InboxTransport } from './inbox-transport.js';
import { messageStatusView } from './message-status.js';
import { sentRow, streamKey, type OutboxRow } from './outbox-row.js';
import type { OutboxStorage, ScannedRange } from './outbox-storage.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './retry-backoff.js';
import { MAX_SEND_BATCH, draftMessage } from './send-request.js';
import { scanSentMessages } from './sent-message-scan.js';
import { StreamSeqs } from './stream-seqs.js';
import { KeyedQueue } from '../inbox/keyed-queue.js';

/** How often the delivery worker looks for work, ms (a sealed message waits at most this before it travels). */
export const DEFAULT_OUTBOX_TICK_MS = 100;
/** Bound on one delivery request to a peer, ms: the target may wait for a checkpoint to return a receipt. */
export const DEFAULT_DELIVERY_TIMEOUT_MS = 15_000;
/** Log entries the recovery scan reads per pass, across namespaces: it keeps up without holding the event loop. */
export const SCAN_ENTRIES_PER_PASS = 8192;
const MESSAGE_ID = /^[0-9a-f]{64}$/;

export interface OutboxOptions {
  /** The outbox's rows (openOutboxStorage); the outbox owns it: closed with it, or when open() fails. */
  storage: OutboxStorage;
  /** This node's name: the source node of every message, and targets on it are local. */
  self: string;
  engine: LogEngine;
  /** Size limit, quota and rate of the source namespace for the message entries. */
  admission: Pick<EntryAdmission, 'admitNodeBuilt'>;
  /** Which checkpoint of a source namespace is sealed: messages travel under it. */
  sealing: Sealing;
  /** The note a checkpoint travels with: the log-signed note plus every cosignature held. */
  checkpointNote(origin: string, cp: PublishedCheckpoint): string | Promise<string>;
  /** Where other nodes are and their log keys (absent: only targets on this node). */
  registry?: Pick<FederationRegistry, 'peer'>;
  /** This node's auth key for peer-signed requests (absent: only targets on this node). */
  creds?: PeerCredentials;
  now?: () => number;
  /** In [0, 1): backoff jitter (tests give their own). */
  random?: () => number;
  logger?: OutboxLogger;
  tickMs?: number;
  backoff?: Partial<BackoffOptions>;
  /** Bound on one delivery request to a peer, ms. */
  requestTimeoutMs?: number;
  /** Default and longest lifetime of a message, ms (see send-request.ts). */
  ttlMs?: number;
  maxTtlMs?: number;
  /**
   * Whether open() recovers from the logs (default true). A front end of a shared database that
   * does not hold the sequencing lease must not write: it calls recover() when it gets the lease.
   */
  recoverAtOpen?: boolean;
}

/**
 * The sending side of cross-namespace messages (issue 12, items 2, 4, 5 and 7). A send appends
 * the messages to the source namespace's log (the truth of what was sent) through a per-namespace
 * queue that numbers each stream without gaps; the rows in its storage follow the log and are
 * rebuilt from it at open, so a crash between an append and its rows loses nothing and reuses no
 * seq. The delivery worker carries each message, once a sealed checkpoint covers it, with its
 * proof to the target's inbox, and keeps the target's proof of delivery.
 */
export class Outbox implements OutboxService, ReplyLinker {
  readonly storage: OutboxStorage;
  readonly #o: OutboxOptions;
  readonly #now: () => number;
  readonly #seqs = new StreamSeqs();
  readonly #queues = new Map<string, NamespaceAppendQueue>();
  /** Per namespace: every log entry below this index has been scanned (mirrors outbox_scan). */
  readonly #scanned = new Map<string, number>();
  readonly #worker: DeliveryWorker;
  /**
   * Recordings (rows and scan marks) one at a time, in call order: the in-memory marks follow the
   * stored ones only if each recording's store write and memory update happen before the next's,
   * which synchronous store calls gave for free and awaited ones do not.
   */
  readonly #recording = new KeyedQueue();
  #localInbox: InboxReceiver | undefined;
  #closed = false;

  /** Opens the outbox over its storage and records what the logs hold beyond its last scan. */
  static async open(options: OutboxOptions): Promise<Outbox> {
    const outbox = new Outbox(options);
    try {
      if (options.recoverAtOpen !== false) await outbox.recover();
    } catch (e) {
      await options.storage.close();
      throw e;
    }
    return outbox;
  }

  /**
   * Takes the streams' numbering from storage and records everything appended since the last
   * scan, rows or not: the crash window is closed here. At open, or when a front end of a shared
   * database gets the lease (the previous holder numbered and recorded meanwhile), before it sends.
   */
  async recover(): Promise<void> {
    for (const s of await this.storage.streamSeqs()) this.#seqs.observe(streamKey(s), s.seq);
    while ((await this.#scanStep(Number.MAX_SAFE_INTEGER)) > 0);
  }

  private constructor(options: OutboxOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.storage = options.storage;
    const transport = new InboxTransport({
      self: options.self,
      engine: options.engine,
      ...(options.registry ? { registry: options.registry } : {}),
      ...(options.creds ? { creds: options.creds } : {}),
      localInbox: () => this.#localInbox,
      timeoutMs: options.requestTimeoutMs ?? DEFAULT_DELIVERY_TIMEOUT_MS,
    });
    this.#worker = new DeliveryWorker({
      storage: this.storage,
      engine: options.engine,
      sealing: options.sealing,
      checkpointNote: (origin, cp) => options.checkpointNote(origin, cp),
      transport,
      now: this.#now,
      random: options.random ?? Math.random,
      backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
      beforePass: async () => void (await this.#scanStep(SCAN_ENTRIES_PER_PASS)),
      ...(options.logger ? { logger: options.logger } : {}),
    });
  }

  /** The inbox of this node, which receives messages to its own namespaces (set once it exists). */
  attachLocalInbox(inbox: InboxReceiver): void {
    this.#localInbox = inbox;
  }

  /** Starts delivering (a pass every tickMs). */
  start(): void {
    this.#worker.start(this.#o.tickMs ?? DEFAULT_OUTBOX_TICK_MS);
  }

  /** Stops delivering and waits for requests under way; sends still work (their messages wait). */
  async stop(): Promise<void> {
    await this.#worker.stop();
  }

  /** One delivery pass, awaited to the end of the requests it started (tests; a node uses start()). */
  async deliverNow(): Promise<void> {
    await this.#worker.pass();
    await this.#worker.settled();
  }

  /** Waits for sends under way, then closes the store; stop() first. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([...this.#queues.values()].map((q) => q.idle()));
    await this.storage.close();
  }

  async send(namespace: string, requests: readonly unknown[]): Promise<SentMessage[]> {
    if (this.#closed) throw new RemembrancerError('SHUTTING_DOWN', 'the outbox is closed');
    if (requests.length === 0)
      throw new RemembrancerError('MESSAGE_MALFORMED', 'no messages to send', { pointer: '/messages' });
    if (requests.length > MAX_SEND_BATCH) {
      throw new RemembrancerError(
        'PAYLOAD_TOO_LARGE',
        `${requests.length} messages in one request; at most ${MAX_SEND_BATCH} are appended together`,
      );
    }
    if (!this.#o.engine.getNamespace(namespace))
      throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${namespace}' does not exist`);
    const batch = requests.length > 1;
    const source: MessageEndpoint = { node: this.#o.self, namespace };
    const sentAtMs = this.#now();
    const drafts = requests.map((request, i) => {
      const pointer = batch ? `/messages/${i}` : '';
      const draft = draftMessage(request, {
        source,
        sentAtMs,
        pointer,
        ...(this.#o.ttlMs === undefined ? {} : { ttlMs: this.#o.ttlMs }),
        ...(this.#o.maxTtlMs === undefined ? {} : { maxTtlMs: this.#o.maxTtlMs }),
      });
      this.#checkReachable(draft, pointer);
      return draft;
    });
    let queue = this.#queues.get(namespace);
    if (!queue) {
      queue = new NamespaceAppendQueue(namespace, {
        engine: this.#o.engine,
        admit: (ns, bytes) => this.#o.admission.admitNodeBuilt(ns, bytes),
        seqs: this.#seqs,
        record: (rows, appended) => this.#record(rows, appended ? [appended] : []),
        onRecordFailed: (e) =>
          this.#o.logger?.error(
            { namespace, err: errorMessage(e) },
            'outbox: recording sent messages failed; the recovery scan records them from the log',
          ),
      });
      this.#queues.set(namespace, queue);
    }
    return queue.submit(drafts, batch);
  }

  async status(namespace: string, id: string): Promise<MessageStatusView | undefined> {
    if (!MESSAGE_ID.test(id))
      throw new RemembrancerError('INVALID_ARGUMENT', 'a message id is 64 lowercase hex digits');
    const row = await this.storage.row(id);
    if (!row || row.namespace !== namespace) return undefined;
    const sentProof = row.state === 'queued' ? undefined : await this.#sentProof(row);
    return messageStatusView(row, this.#o.self, this.#now(), {
      ...(sentProof === undefined ? {} : { sentProof }),
      replies: await this.storage.replies(id),
    });
  }

  async linkReply(namespace: string, queryId: string, from: MessageEndpoint, replyId: string): Promise<boolean> {
    if (!MESSAGE_ID.test(queryId) || !MESSAGE_ID.test(replyId)) return false;
    const row = await this.storage.row(queryId);
    if (
      !row ||
      row.namespace !== namespace ||
      row.action !== 'query' ||
      row.target.node !== from.node ||
      row.target.namespace !== from.namespace
    )
      return false;
    await this.storage.addReply(queryId, replyId);
    return true;
  }

  /** A target elsewhere must be a node of the federation registry, or the message could never travel. */
  #checkReachable(draft: NamespaceMessage, pointer: string): void {
    const node = draft.target.node;
    if (node === this.#o.self || this.#o.registry?.peer(node)) return;
    throw new RemembrancerError('NOT_FOUND', `${pointer}/target/node: ${node} is not a node of this federation`, {
      pointer: `${pointer}/target/node`,
    });
  }

  /** The proof the message was sent: its tlog-proof under the latest sealed checkpoint (which covers it). */
  async #sentProof(row: OutboxRow): Promise<string | undefined> {
    const { engine, sealing } = this.#o;
    try {
      const ns = engine.getNamespace(row.namespace);
      const sealed = ns && (await sealing.latestSealed(ns));
      const data = await engine.getEntry(row.namespace, row.index);
      if (!ns || !sealed || sealed.checkpoint.size <= row.index || !data) return undefined;
      return buildReceipt({
        namespace: ns.id,
        origin: ns.origin,
        index: row.index,
        entry: JSON.parse(utf8Decode(data)) as unknown,
        proof: await engine.inclusionProof(ns.id, row.index, sealed.checkpoint.size),
        checkpointNote: await this.#o.checkpointNote(ns.origin, sealed.checkpoint),
      }).tlog_proof;
    } catch (e) {
      this.#o.logger?.warn(
        { id: row.id, err: errorMessage(e) },
        'outbox: the proof of a sent message is not available',
      );
      return undefined;
    }
  }

  /** Records rows and moves scan marks (store and memory together, one recording at a time). */
  #record(rows: OutboxRow[], ranges: readonly ScannedRange[]): Promise<OutboxRow[]> {
    return this.#recording.run('', async () => {
      const added = await this.storage.recordSent(rows, ranges);
      for (const r of ranges) {
        const mark = this.#scanned.get(r.namespace) ?? (await this.storage.scanMark(r.namespace));
        if (mark >= r.from) this.#scanned.set(r.namespace, Math.max(this.#scanned.get(r.namespace) ?? 0, r.to));
      }
      return added;
    });
  }

  /**
   * Reads up to `budget` log entries not yet scanned, across namespaces, for messages sent from
   * here, records the rows missing and moves each stream's next seq past what it found. Returns
   * how many entries it read (0: every log is scanned to its end). Runs one at a time (at open,
   * then first in each delivery pass, which never overlap).
   */
  async #scanStep(budget: number): Promise<number> {
    const { engine, self } = this.#o;
    let read = 0;
    const rows: OutboxRow[] = [];
    const ranges: ScannedRange[] = [];
    for (const ns of engine.listNamespaces()) {
      if (read >= budget) break;
      if (ns.id.startsWith('sys:')) continue;
      let from = this.#scanned.get(ns.id);
      if (from === undefined) {
        const stored = await this.storage.scanMark(ns.id);
        // A send's recording may have set it meanwhile: that one is the newer.
        from = this.#scanned.get(ns.id) ?? stored;
        this.#scanned.set(ns.id, from);
      }
      const to = Math.min(engine.sequencedSize(ns.id), from + (budget - read));
      if (to <= from) continue;
      for (const f of await scanSentMessages(engine, ns.id, self, from, to)) {
        rows.push(sentRow(f.message, f.id, f.index));
        this.#seqs.observe(streamKey({ namespace: ns.id, target: f.message.target }), f.message.seq);
      }
      ranges.push({ namespace: ns.id, from, to });
      read += to - from;
    }
    if (ranges.length === 0) return 0;
    const added = new Set((await this.#record(rows, ranges)).map((r) => r.id));
    for (const r of rows) {
      if (added.has(r.id) || (await this.storage.row(r.id))) continue;
      // Another entry already holds this seq: an entry not made by this outbox (see scanSentMessages).
      this.#o.logger?.warn(
        { namespace: r.namespace, index: r.index, seq: r.seq, target: r.target, id: r.id },
        'outbox: a message entry in the log reuses a seq of its stream; it is not delivered',
      );
    }
    return read;
  }
}
