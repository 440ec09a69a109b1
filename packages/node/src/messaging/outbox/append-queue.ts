import {
  RemembrancerError,
  crypto,
  isRemembrancerError,
  messageEntryBytes,
  toHex,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { AppendResult, LogEngine } from '../../log/log-engine.js';
import type { AdmittedEntries } from '../../namespaces/entry-admission.js';
import type { SentMessage } from '../messaging-wire.js';
import { sentRow, streamKey, type OutboxRow } from './outbox-row.js';
import { numbered } from './send-request.js';
import type { SeqJournal, StreamSeqs } from './stream-seqs.js';

/** Most messages one coalesced append carries (within the engine's batch of 4,096; a request has ≤ 1,000). */
export const MAX_MESSAGES_PER_APPEND = 2048;

export interface AppendQueueDeps {
  engine: Pick<LogEngine, 'append'>;
  /** Size limit, quota and rate of the source namespace (EntryAdmission.admitNodeBuilt). */
  admit(namespace: string, bytes: readonly Uint8Array[]): AdmittedEntries;
  seqs: StreamSeqs;
  /**
   * Records the rows of messages just appended; `appended` is their index range when contiguous.
   * A failure here loses nothing: the entries are in the log, and the recovery scan finds them.
   * The senders are answered once it settled, so a status asked right after a send finds the row.
   */
  record(rows: OutboxRow[], appended: { namespace: string; from: number; to: number } | undefined): Promise<unknown>;
  onRecordFailed?(e: unknown): void;
}

interface Waiting {
  drafts: readonly NamespaceMessage[];
  /** Re-aims admission errors (pointers `/entries/i`) at the request. */
  batch: boolean;
  resolve(sent: SentMessage[]): void;
  reject(e: unknown): void;
}

interface Admitted {
  waiting: Waiting;
  messages: NamespaceMessage[];
  bytes: Uint8Array[];
  admitted: AdmittedEntries;
}

/** An admission error about entry i of a batch, re-aimed at message i of the request. */
function asMessagesError(e: unknown, batch: boolean): unknown {
  if (!isRemembrancerError(e) || e.pointer === undefined) return e;
  const m = /^\/entries\/(\d+)(.*)$/.exec(e.pointer);
  if (!m) return e;
  const message = e.message.replace(/^entries\[(\d+)\]/, 'messages[$1]');
  return new RemembrancerError(e.code, message, {
    cause: e,
    ...(batch ? { pointer: `/messages/${m[1]}${m[2]}` } : m[2] ? { pointer: m[2] } : {}),
  });
}

/**
 * One source namespace's sends, appended one at a time: while an append is under way, every send
 * that arrives waits, and the next append carries all of them (up to MAX_MESSAGES_PER_APPEND). A
 * seq is taken only here, just before the append that stores it, and given back if that append
 * fails: so each stream's seqs are 1, 2, 3, … in log order, with no gap and none used twice,
 * however many sends race. A request is admitted (size, quota, rate) whole or refused whole.
 */
export class NamespaceAppendQueue {
  #waiting: Waiting[] = [];
  /** Set and cleared synchronously around the drain loop: a send never finds it set once the loop has looked its last. */
  #running = false;
  #drained: Promise<void> = Promise.resolve();

  constructor(
    private readonly namespace: string,
    private readonly deps: AppendQueueDeps,
  ) {}

  /** Appends the drafted messages (all of this namespace) together, numbered in order. */
  submit(drafts: readonly NamespaceMessage[], batch: boolean): Promise<SentMessage[]> {
    return new Promise((resolve, reject) => {
      this.#waiting.push({ drafts, batch, resolve, reject });
      if (!this.#running) {
        this.#running = true;
        this.#drained = this.#drain();
      }
    });
  }

  /** Resolves once nothing is waiting or being appended. */
  async idle(): Promise<void> {
    while (this.#running) await this.#drained;
  }

  async #drain(): Promise<void> {
    try {
      while (this.#waiting.length > 0) {
        let count = 0;
        let take = 0;
        while (
          take < this.#waiting.length &&
          (take === 0 || count + this.#waiting[take]!.drafts.length <= MAX_MESSAGES_PER_APPEND)
        ) {
          count += this.#waiting[take]!.drafts.length;
          take++;
        }
        await this.#appendTogether(this.#waiting.splice(0, take));
      }
    } finally {
      this.#running = false;
    }
  }

  async #appendTogether(group: readonly Waiting[]): Promise<void> {
    const journal = this.deps.seqs.journal();
    const admitted: Admitted[] = [];
    for (const waiting of group) {
      const own = this.deps.seqs.journal();
      try {
        admitted.push(this.#number(waiting, own));
        journal.absorb(own);
      } catch (e) {
        own.undo();
        waiting.reject(asMessagesError(e, waiting.batch));
      }
    }
    if (admitted.length === 0) return;
    let results: AppendResult[];
    try {
      results = await this.deps.engine.append(
        this.namespace,
        admitted.flatMap((a) => a.bytes),
      );
    } catch (e) {
      journal.undo();
      for (const a of admitted) a.waiting.reject(e);
      return;
    } finally {
      for (const a of admitted) a.admitted.release();
    }
    await this.#settle(admitted, results);
  }

  /** Numbers one request's messages and admits their entries; throws (seqs to be undone) if refused. */
  #number(waiting: Waiting, journal: SeqJournal): Admitted {
    const messages = waiting.drafts.map((d) =>
      numbered(d, journal.take(streamKey({ namespace: this.namespace, target: d.target }))),
    );
    const bytes = messages.map((m) => messageEntryBytes(m));
    return { waiting, messages, bytes, admitted: this.deps.admit(this.namespace, bytes) };
  }

  async #settle(admitted: readonly Admitted[], results: readonly AppendResult[]): Promise<void> {
    const rows: OutboxRow[] = [];
    const answers: SentMessage[][] = [];
    let i = 0;
    for (const a of admitted) {
      const sent: SentMessage[] = [];
      a.messages.forEach((m, j) => {
        const index = results[i++]!.index;
        const row = sentRow(m, toHex(crypto.sha256(a.bytes[j]!)), index);
        rows.push(row);
        sent.push({ id: row.id, index, seq: row.seq, state: 'queued' });
      });
      answers.push(sent);
    }
    const from = results[0]!.index;
    const contiguous = results.every((r, k) => r.index === from + k);
    try {
      await this.deps.record(
        rows,
        contiguous ? { namespace: this.namespace, from, to: from + results.length } : undefined,
      );
    } catch (e) {
      // The messages are in the log (the truth); the recovery scan records them on its next pass.
      this.deps.onRecordFailed?.(e);
    }
    admitted.forEach((a, k) => a.waiting.resolve(answers[k]!));
  }
}
