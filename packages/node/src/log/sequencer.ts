import { RemembrancerError } from '@vaultmesh/core';
import type { NamespaceKey } from '../storage/log-storage.js';
import type { AppendResult } from './log-engine.js';

export interface SequencerOptions {
  /** Entries per group commit; a batch closes early when full. */
  batchMaxEntries: number;
  /** A batch commits at the latest this long after its first entry was queued. */
  batchMaxAgeMs: number;
  /** Pending entries beyond which append is refused with QUEUE_FULL; shared fairly (see Sequencer). */
  queueMaxEntries: number;
  /** Pending payload bytes beyond which append is refused with QUEUE_FULL; shared fairly (see Sequencer). */
  queueMaxBytes: number;
}

/** The entries one namespace contributes to a batch, in queue order. */
export interface NamespaceGroup {
  ns: NamespaceKey;
  entries: Uint8Array[];
}

/**
 * Durably commits a batch and returns, per group, the results of its entries in order; throws
 * (or rejects) if nothing was committed. Called with one batch at a time.
 */
export type CommitBatch = (groups: readonly NamespaceGroup[]) => AppendResult[][] | Promise<AppendResult[][]>;

export interface SequencerStats {
  /** Batches committed (one storage transaction each). */
  commits: number;
  committedEntries: number;
  failedCommits: number;
  pendingEntries: number;
  pendingBytes: number;
  /** Namespaces with pending work now. */
  pendingNamespaces: number;
  /** Appends refused with QUEUE_FULL, for any reason. */
  rejectedQueueFull: number;
  /** Of those, appends refused because their namespace had used its fair share of the queue. */
  rejectedFairShare: number;
  lastBatchEntries: number;
  largestBatchEntries: number;
}

interface Waiter {
  entries: readonly Uint8Array[];
  bytes: number;
  enqueuedAt: number;
  resolve(results: AppendResult[]): void;
  reject(error: unknown): void;
}

/** FIFO without Array#shift's O(n) per removal: the queue of one hot namespace can be long. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(x: T): void {
    this.items.push(x);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head]!;
    this.items[this.head++] = undefined as T;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }

  drain(): T[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

/** One namespace's pending appends and what they hold, for fair admission. */
class NamespaceQueue extends Fifo<Waiter> {
  entries = 0;
  bytes = 0;
}

/**
 * Half of the room the other namespaces leave: the most a namespace with pending work may hold.
 * Choudhury & Hahne's dynamic threshold with α = 1 ("Dynamic queue length thresholds for
 * shared-memory packet switches", IEEE/ACM ToN 6(2), 1998, https://doi.org/10.1109/90.664262).
 */
function fairShare(limit: number, others: number): number {
  return Math.max(0, Math.floor((limit - others) / 2));
}

/**
 * Group commit with pushback, after Tessera's sequencer: appends wait in per-namespace FIFOs; a
 * batch is cut when it holds batchMaxEntries entries or its oldest entry is batchMaxAgeMs old, and
 * committed in one storage transaction; only then are its appends resolved. An append call is
 * never split across batches: its entries commit together or not at all.
 *
 * Admission is fair per namespace (a namespace is one tenant). Besides the global bounds
 * (queueMaxEntries, queueMaxBytes), a namespace that already has pending work may grow to at most
 * half of the room the other namespaces leave it: own pending after admission ≤
 * floor((queueMax − others' pending) / 2), for entries and for bytes alike (a dynamic threshold).
 * So:
 *  - a lone namespace may hold half of the queue;
 *  - m namespaces flooding at once settle at queueMax/(m+1) each (the floor(N/(k+2)) share of the
 *    issue, k being the other namespaces with work); whatever order they arrived in, every
 *    admission of a namespace with pending work leaves at least as much room free as that
 *    namespace then holds, so tenants that keep queueing can never fill the queue and a tenant
 *    with nothing pending finds room (only other tenants' first calls can take the last of it);
 *  - a namespace with nothing pending is admitted within the global bounds for one call of up to
 *    max(its share, batchMaxEntries) entries, so a large batch always passes eventually.
 * A namespace over its share is refused with QUEUE_FULL (pushback: retry later), like a full queue.
 *
 * Scheduling: namespaces with pending work take turns, one append call each per turn; a namespace
 * whose next call does not fit in the batch is skipped (it keeps its place) and smaller calls of
 * the others still ride along; a namespace served in a batch goes to the back of the rotation. The
 * first namespace in the rotation is always served, so the oldest pending append of a namespace
 * is committed at the latest in the (k+1)-th batch cut after it was queued, k being the number of
 * other namespaces with pending work then, however much they queue (namespaces arriving later
 * queue behind it): with one flooding tenant, within two batches.
 */
export class Sequencer {
  private readonly active = new Map<NamespaceKey, NamespaceQueue>();
  private pendingEntries = 0;
  private pendingBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private flushing = false;
  private draining = false;
  private idleWaiters: (() => void)[] = [];
  private readonly counters = {
    commits: 0,
    committedEntries: 0,
    failedCommits: 0,
    rejectedQueueFull: 0,
    rejectedFairShare: 0,
    lastBatchEntries: 0,
    largestBatchEntries: 0,
  };

  constructor(
    private readonly options: SequencerOptions,
    private readonly commit: CommitBatch,
    private readonly onCommitError: (error: unknown, entries: number) => void = () => {},
  ) {}

  /**
   * Queues one append call. Throws QUEUE_FULL synchronously (nothing queued) when the queue
   * bounds would be exceeded or the namespace has used its fair share of the queue.
   */
  enqueue(ns: NamespaceKey, entries: readonly Uint8Array[]): Promise<AppendResult[]> {
    let bytes = 0;
    for (const e of entries) bytes += e.length;
    this.admit(this.active.get(ns), entries.length, bytes);
    return new Promise<AppendResult[]>((resolve, reject) => {
      let q = this.active.get(ns);
      if (q === undefined) {
        q = new NamespaceQueue();
        this.active.set(ns, q);
      }
      q.push({ entries, bytes, enqueuedAt: performance.now(), resolve, reject });
      q.entries += entries.length;
      q.bytes += bytes;
      this.pendingEntries += entries.length;
      this.pendingBytes += bytes;
      this.schedule();
    });
  }

  /** Throws QUEUE_FULL unless an append of `count` entries and `bytes` bytes may join namespace queue `q`. */
  private admit(q: NamespaceQueue | undefined, count: number, bytes: number): void {
    const { queueMaxEntries, queueMaxBytes, batchMaxEntries } = this.options;
    if (
      this.pendingEntries + count > queueMaxEntries ||
      // An append larger than the whole byte bound still passes an empty queue (entries may be 64 KiB).
      (this.pendingBytes + bytes > queueMaxBytes && this.pendingEntries > 0)
    ) {
      this.counters.rejectedQueueFull++;
      throw new RemembrancerError(
        'QUEUE_FULL',
        `append queue is full (${this.pendingEntries} entries, ${this.pendingBytes} bytes pending); retry later`,
      );
    }
    const ownEntries = q?.entries ?? 0;
    const ownBytes = q?.bytes ?? 0;
    const shareEntries = fairShare(queueMaxEntries, this.pendingEntries - ownEntries);
    const shareBytes = fairShare(queueMaxBytes, this.pendingBytes - ownBytes);
    if (ownEntries === 0) {
      if (count <= Math.max(shareEntries, batchMaxEntries)) return;
      this.counters.rejectedQueueFull++;
      this.counters.rejectedFairShare++;
      throw new RemembrancerError(
        'QUEUE_FULL',
        `an append of ${count} entries exceeds both this namespace's fair share of the append queue ` +
          `(${shareEntries} entries now) and a batch (${batchMaxEntries}); retry later or split it`,
      );
    }
    if (ownEntries + count <= shareEntries && ownBytes + bytes <= shareBytes) return;
    this.counters.rejectedQueueFull++;
    this.counters.rejectedFairShare++;
    throw new RemembrancerError(
      'QUEUE_FULL',
      `this namespace has used its fair share of the append queue (${ownEntries} entries, ${ownBytes} bytes pending; ` +
        `share ${shareEntries} entries, ${shareBytes} bytes while ${this.active.size - 1} other namespaces wait); retry later`,
    );
  }

  /** Commits everything queued without waiting for batch age; resolves when the queue is empty. */
  drain(): Promise<void> {
    this.draining = true;
    if (this.pendingEntries === 0 && !this.flushing) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push(resolve);
      this.schedule();
    });
  }

  /** Rejects everything still queued (used when the storage cannot take it any more). */
  rejectAll(error: unknown): void {
    for (const q of this.active.values()) for (const w of q.drain()) w.reject(error);
    this.active.clear();
    this.pendingEntries = 0;
    this.pendingBytes = 0;
    this.clearTimers();
    this.notifyIdle();
  }

  stats(): SequencerStats {
    return {
      ...this.counters,
      pendingEntries: this.pendingEntries,
      pendingBytes: this.pendingBytes,
      pendingNamespaces: this.active.size,
    };
  }

  private schedule(): void {
    if (this.flushing) return; // the running flush reschedules when it is done
    if (this.pendingEntries === 0) {
      this.clearTimers();
      this.notifyIdle();
      return;
    }
    if (this.draining || this.pendingEntries >= this.options.batchMaxEntries) {
      if (this.timer !== undefined) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      // setImmediate, not a synchronous flush: appends made in the same tick join the batch, and
      // between batches the event loop gets to serve I/O.
      this.immediate ??= setImmediate(() => void this.flush());
      return;
    }
    if (this.timer !== undefined || this.immediate !== undefined) return;
    const wait = Math.max(0, this.oldestEnqueuedAt() + this.options.batchMaxAgeMs - performance.now());
    this.timer = setTimeout(() => void this.flush(), wait);
  }

  private async flush(): Promise<void> {
    this.clearTimers();
    if (this.flushing) return;
    this.flushing = true;
    try {
      const batch = this.takeBatch();
      if (batch.length > 0) await this.commitBatch(batch);
    } finally {
      this.flushing = false;
    }
    this.schedule();
  }

  /**
   * Cuts the next batch, round-robin over namespaces, one append call per namespace per turn. A
   * namespace whose next call does not fit is passed over for the rest of this batch.
   */
  private takeBatch(): { ns: NamespaceKey; waiters: Waiter[] }[] {
    const max = this.options.batchMaxEntries;
    const taken = new Map<NamespaceKey, Waiter[]>();
    let count = 0;
    // Each turn visits only the namespaces still able to contribute: O(namespaces + calls taken).
    let turn: [NamespaceKey, NamespaceQueue][] = [...this.active];
    fill: while (turn.length > 0) {
      const next: [NamespaceKey, NamespaceQueue][] = [];
      for (const item of turn) {
        const [ns, q] = item;
        const w = q.peek();
        if (w === undefined) continue;
        if (count > 0 && count + w.entries.length > max) continue;
        q.shift();
        count += w.entries.length;
        q.entries -= w.entries.length;
        q.bytes -= w.bytes;
        this.pendingEntries -= w.entries.length;
        this.pendingBytes -= w.bytes;
        let list = taken.get(ns);
        if (list === undefined) taken.set(ns, (list = []));
        list.push(w);
        if (count >= max) break fill;
        next.push(item);
      }
      turn = next;
    }
    // Served namespaces go to the back of the rotation; namespaces not served keep their place.
    for (const ns of taken.keys()) {
      const q = this.active.get(ns)!;
      this.active.delete(ns);
      if (q.length > 0) this.active.set(ns, q);
    }
    return [...taken].map(([ns, waiters]) => ({ ns, waiters }));
  }

  private async commitBatch(batch: { ns: NamespaceKey; waiters: Waiter[] }[]): Promise<void> {
    const groups: NamespaceGroup[] = batch.map(({ ns, waiters }) => {
      const entries: Uint8Array[] = [];
      for (const w of waiters) for (const e of w.entries) entries.push(e);
      return { ns, entries };
    });
    const total = groups.reduce((n, g) => n + g.entries.length, 0);
    let results: AppendResult[][];
    try {
      results = await this.commit(groups);
    } catch (error) {
      this.counters.failedCommits++;
      this.onCommitError(error, total);
      for (const { waiters } of batch) for (const w of waiters) w.reject(error);
      return;
    }
    this.counters.commits++;
    this.counters.committedEntries += total;
    this.counters.lastBatchEntries = total;
    this.counters.largestBatchEntries = Math.max(this.counters.largestBatchEntries, total);
    batch.forEach(({ waiters }, g) => {
      const r = results[g]!;
      let o = 0;
      for (const w of waiters) {
        w.resolve(r.slice(o, o + w.entries.length));
        o += w.entries.length;
      }
    });
  }

  private oldestEnqueuedAt(): number {
    let oldest = Infinity;
    for (const q of this.active.values()) {
      const w = q.peek();
      if (w !== undefined && w.enqueuedAt < oldest) oldest = w.enqueuedAt;
    }
    return oldest === Infinity ? performance.now() : oldest;
  }

  private clearTimers(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.immediate !== undefined) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }

  private notifyIdle(): void {
    if (this.flushing || this.pendingEntries > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
