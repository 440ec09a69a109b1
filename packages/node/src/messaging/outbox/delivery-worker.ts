import {
  crypto,
  errorMessage,
  leafHash,
  parseMessage,
  receiptBuilder,
  toHex,
  utf8Decode,
  withProof,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { LogEngine, NamespaceRecord, PublishedCheckpoint } from '../../log/log-engine.js';
import type { Sealing } from '../../namespaces/sealing.js';
import { MAX_INBOX_BATCH } from '../messaging-wire.js';
import { inboxError, messageOutcome } from './delivery-outcome.js';
import type { InboxAnswer, InboxTransport } from './inbox-transport.js';
import { streamKey, type OutboxRow, type RowUpdate, type StreamRef } from './outbox-row.js';
import type { DeliveryLane, OutboxStorage } from './outbox-storage.js';
import { retryDelayMs, type BackoffOptions } from './retry-backoff.js';
import { doneInLane, rowAfterAnswer, rowAfterFailure, type RetrySchedule } from './row-updates.js';

export interface OutboxLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/**
 * Bytes of one delivery request at most: the peer scope reads at most 512 KiB
 * (PEER_BODY_LIMIT_BYTES); this leaves room for the estimate's slack and the wrapper.
 */
export const MAX_DELIVERY_BATCH_BYTES = 448 * 1024;
/** Streams being delivered to at once; the others wait for a later pass. */
export const MAX_STREAMS_IN_FLIGHT = 32;
/** Requests of one stream under way at once (see DeliveryWorker.#deliverStream). */
export const MAX_REQUESTS_PER_STREAM = 4;

const LANES: readonly DeliveryLane[] = ['deliver', 'receipt'];

export interface DeliveryWorkerOptions {
  storage: OutboxStorage;
  engine: Pick<LogEngine, 'getNamespace' | 'getEntry' | 'inclusionProof'>;
  sealing: Sealing;
  checkpointNote(origin: string, cp: PublishedCheckpoint): string | Promise<string>;
  transport: InboxTransport;
  now(): number;
  random(): number;
  backoff: BackoffOptions;
  /** Runs first in every pass (the outbox's incremental recovery scan); the pass awaits it. */
  beforePass?(): Promise<void>;
  logger?: OutboxLogger;
  maxStreamsInFlight?: number;
  maxRequestsPerStream?: number;
  maxBatchBytes?: number;
}

interface Travelling {
  row: OutboxRow;
  message: NamespaceMessage;
  /** RFC 6962 leaf hash of its entry as the source log stores it: the delivery record's leaf_hash. */
  leafHash: Uint8Array;
}

/** Request bytes a message adds: its entry, its proof (newlines escaped as \n), the members around them. */
function travellingSize(entryBytes: number, proof: string): number {
  let newlines = 0;
  for (let i = proof.indexOf('\n'); i >= 0; i = proof.indexOf('\n', i + 1)) newlines++;
  return entryBytes + proof.length + newlines + 64;
}

/**
 * Delivers what the outbox holds (issue 12, item 2). Every pass: messages covered by their source
 * namespace's latest sealed checkpoint become `sealed`; then each stream whose first message in a
 * lane is due gets one request — its next messages in seq order, at most MAX_INBOX_BATCH and
 * MAX_DELIVERY_BATCH_BYTES, each with its tlog-proof under that sealed checkpoint — and, as long
 * as requests succeed, the next ones, a few under way at once. A stream has one such run at a
 * time, so its requests leave in seq order. A failed request is retried after a backoff drawn once
 * for the request from its first message's attempts, so a stream is retried as one, not message
 * by message (which would resend its head as often as any of its messages came due).
 */
export class DeliveryWorker {
  readonly #o: DeliveryWorkerOptions;
  readonly #inFlight = new Map<string, Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #stopping = false;
  /** The pass under way: a tick while its scan awaits the log joins it rather than starting another. */
  #passing: Promise<void> | undefined;

  constructor(options: DeliveryWorkerOptions) {
    this.#o = options;
  }

  start(tickMs: number): void {
    this.#stopping = false;
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.pass(), tickMs);
  }

  /** Stops passing and waits for the requests under way (each bounded by its timeout). */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#passing;
    await this.settled();
  }

  /** Resolves once the deliveries under way have settled. */
  async settled(): Promise<void> {
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight.values()]);
  }

  /**
   * One pass: scan, seal, and start the requests that are due; resolves once they are started
   * (the requests are not awaited: see settled()). Never rejects.
   */
  pass(): Promise<void> {
    this.#passing ??= this.#pass().finally(() => (this.#passing = undefined));
    return this.#passing;
  }

  async #pass(): Promise<void> {
    if (this.#stopping) return;
    const { storage, logger } = this.#o;
    try {
      await this.#o.beforePass?.();
    } catch (e) {
      logger?.error({ err: errorMessage(e) }, 'outbox: scanning the source logs failed');
    }
    if (this.#stopping) return;
    try {
      const now = this.#o.now();
      for (const ns of await storage.queuedNamespaces()) {
        const sealed = await this.#sealed(ns);
        if (sealed) await storage.markSealed(ns, sealed.checkpoint.size, now);
      }
      const max = this.#o.maxStreamsInFlight ?? MAX_STREAMS_IN_FLIGHT;
      for (const lane of LANES) {
        for (const head of await storage.heads(lane)) {
          if (this.#inFlight.size >= max) return;
          if (head.nextAttemptMs > now) continue;
          const key = `${lane}\n${streamKey(head)}`;
          if (this.#inFlight.has(key)) continue;
          const stream: StreamRef = { namespace: head.namespace, target: head.target };
          this.#inFlight.set(
            key,
            this.#deliverStream(lane, stream)
              .catch((e: unknown) =>
                logger?.error(
                  { namespace: stream.namespace, target: stream.target, lane, err: errorMessage(e) },
                  'outbox: delivering a stream failed',
                ),
              )
              .finally(() => this.#inFlight.delete(key)),
          );
        }
      }
    } catch (e) {
      logger?.error({ err: errorMessage(e) }, 'outbox: a delivery pass failed');
    }
  }

  async #sealed(namespace: string): Promise<{ ns: NamespaceRecord; checkpoint: PublishedCheckpoint } | undefined> {
    const ns = this.#o.engine.getNamespace(namespace);
    const sealed = ns && (await this.#o.sealing.latestSealed(ns));
    return ns && sealed ? { ns, checkpoint: sealed.checkpoint } : undefined;
  }

  /**
   * Delivers a stream's messages in the lane: up to maxRequestsPerStream requests under way at
   * once, each with the messages after the last one sent, so a target that waits for a checkpoint
   * before it answers (to return receipts) does not hold the stream to one batch per checkpoint.
   * Requests leave in seq order and a target applies a stream in seq order, so one overtaken on the
   * way is only held and answered duplicate on its retry. The run ends when every message was
   * sent, or at the first answer that leaves a message to retry (the rest wait for their backoff).
   */
  async #deliverStream(lane: DeliveryLane, stream: StreamRef): Promise<void> {
    const window: Array<Promise<boolean>> = [];
    const most = this.#o.maxRequestsPerStream ?? MAX_REQUESTS_PER_STREAM;
    let afterSeq = 0;
    let sending = true;
    try {
      while (!this.#stopping) {
        while (sending && window.length < most) {
          const next = await this.#nextRequest(lane, stream, afterSeq);
          if (!next) {
            sending = false;
            break;
          }
          afterSeq = next.afterSeq;
          window.push(this.#request(lane, stream, next.travelling));
        }
        const oldest = window.shift();
        if (oldest === undefined) return;
        if (!(await oldest)) sending = false;
      }
    } finally {
      await Promise.allSettled(window);
    }
  }

  /** The stream's next messages to send after seq `afterSeq`, travelling; undefined when none is ready. */
  async #nextRequest(
    lane: DeliveryLane,
    stream: StreamRef,
    afterSeq: number,
  ): Promise<{ travelling: Travelling[]; afterSeq: number } | undefined> {
    const { storage } = this.#o;
    const rows = await storage.streamRows(lane, stream, MAX_INBOX_BATCH, afterSeq);
    const sealed = rows.length > 0 ? await this.#sealed(stream.namespace) : undefined;
    if (!sealed) return undefined;
    const { travelling, broken, lastSeq } = await this.#travelling(sealed.ns, sealed.checkpoint, rows);
    if (broken.length > 0) await storage.update(broken);
    if (travelling.length === 0) return undefined;
    return { travelling, afterSeq: lastSeq };
  }

  /** One request and what its answer changes; true when it left nothing to retry. */
  async #request(lane: DeliveryLane, stream: StreamRef, travelling: readonly Travelling[]): Promise<boolean> {
    const answer = await this.#o.transport.deliver(
      stream.target,
      travelling.map((t) => t.message),
    );
    const updates = this.#updates(lane, stream, travelling, answer);
    // Awaited before the request counts as done: the stream's run (and the next pass's look at
    // its head) must see what the answer changed.
    await this.#o.storage.update(updates);
    return updates.every((u) => doneInLane(u, lane));
  }

  #updates(lane: DeliveryLane, stream: StreamRef, travelling: readonly Travelling[], answer: InboxAnswer): RowUpdate[] {
    const { backoff } = this.#o;
    const random = () => this.#o.random();
    const now = this.#o.now();
    const head = travelling[0]!.row;
    const schedule: RetrySchedule = {
      now,
      retryAt: now + retryDelayMs(lane === 'deliver' ? head.attempts + 1 : head.receiptAttempts + 1, backoff, random),
      receiptRetryAt: (n) => now + retryDelayMs(n, backoff, random),
    };
    if (!answer.ok) {
      this.#o.logger?.warn(
        { namespace: stream.namespace, target: stream.target, lane, messages: travelling.length, ...answer.failure },
        'outbox: delivery request failed',
      );
      return travelling.map((t) => rowAfterFailure(t.row, lane, answer.failure, schedule));
    }
    const targetLog = this.#o.transport.targetLogKey(stream.target);
    return travelling.map((t, i) =>
      rowAfterAnswer(
        t.row,
        lane,
        messageOutcome(t.message, t.row.id, t.row.index, answer.results[i], targetLog, t.leafHash),
        schedule,
      ),
    );
  }

  /**
   * The rows' messages as they travel: read from the source log (the truth), each with the
   * tlog-proof of its entry under the sealed checkpoint (buildReceipt checks the proof against
   * the checkpoint before it is handed out). A row whose entry is not its message is `broken`: a
   * fault of this node's storage, refused here rather than sent.
   */
  async #travelling(
    ns: NamespaceRecord,
    cp: PublishedCheckpoint,
    rows: readonly OutboxRow[],
  ): Promise<{ travelling: Travelling[]; broken: RowUpdate[]; lastSeq: number }> {
    const { engine } = this.#o;
    // One note and one receipt builder for the whole batch: every message travels under this checkpoint.
    const build = receiptBuilder({
      namespace: ns.id,
      origin: ns.origin,
      checkpointNote: await this.#o.checkpointNote(ns.origin, cp),
    });
    const maxBytes = this.#o.maxBatchBytes ?? MAX_DELIVERY_BATCH_BYTES;
    const travelling: Travelling[] = [];
    const broken: RowUpdate[] = [];
    let bytes = 0;
    let lastSeq = 0;
    for (const row of rows) {
      if (row.index >= cp.size) break;
      const data = await engine.getEntry(ns.id, row.index);
      if (!data || toHex(crypto.sha256(data)) !== row.id) {
        this.#o.logger?.error(
          { namespace: ns.id, index: row.index, id: row.id },
          'outbox: the source log does not hold this message at its index',
        );
        broken.push({
          id: row.id,
          state: 'refused',
          attempts: row.attempts,
          nextAttemptMs: row.nextAttemptMs,
          error: inboxError('STORAGE_FAILURE', `entry ${row.index} of ${ns.id} is not message ${row.id}`),
          receiptAttempts: row.receiptAttempts,
        });
        lastSeq = row.seq;
        continue;
      }
      const entry = JSON.parse(utf8Decode(data)) as unknown;
      const receipt = build(row.index, data, entry, await engine.inclusionProof(ns.id, row.index, cp.size));
      const proof = receipt.tlog_proof;
      const size = travellingSize(data.length, proof);
      if (travelling.length > 0 && bytes + size > maxBytes) break;
      bytes += size;
      travelling.push({ row, message: withProof(parseMessage(entry), proof), leafHash: leafHash(data) });
      lastSeq = row.seq;
    }
    return { travelling, broken, lastSeq };
  }
}
