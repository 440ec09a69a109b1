import { RemembrancerError, buildMessageDelivery, utf8Decode, type NamespaceMessage } from '@vaultmesh/core';
import { entryToBytes } from '../../entries/entry-bytes.js';
import type { AppendResult, LogEngine } from '../../log/log-engine.js';
import type { NamespaceDirectory } from '../../namespaces/namespace-directory.js';
import type { SchemaRegistry } from '../../namespaces/schema-registry.js';
import type { WriterAuthorization } from '../../namespaces/writer-authorization.js';
import type { InboxResult } from '../messaging-wire.js';
import { refusal, refusalOf, type ProvenMessage } from './incoming-message.js';
import type { Admission } from './inbox-admission.js';
import type { InboxRow } from './inbox-record.js';
import { listedInInbox, rowDelivery, rowMessage } from './inbox-rows.js';
import type { InboxSettlement, InboxStorage, InboxTransition } from './inbox-storage.js';
import { decideAtTurn, expiredAt } from './turn-decision.js';

/** Most messages of one stream applied by one pair of appends (a longer run takes several). */
export const MAX_RUN = 1024;

/**
 * Reserves what an append of node-built entries takes from the namespace's limits (storage quota,
 * and rate where the node applies it), or throws (QUOTA_EXCEEDED, RATE_LIMITED, …) reserving
 * nothing. Returns the release, called once the append settled.
 */
export type AdmitAppend = (namespace: string, entries: readonly Uint8Array[]) => () => void;

export interface StreamApplierDeps {
  engine: LogEngine;
  storage: InboxStorage;
  directory: NamespaceDirectory;
  schemas: SchemaRegistry;
  auth: WriterAuthorization;
  admit: AdmitAppend;
  now: () => number;
  /** Told when the namespace's application inbox got items. */
  onItems: (namespace: string) => void;
}

/** One proven message of a request, at its position in the request. */
export interface StreamMessage {
  pos: number;
  proven: ProvenMessage;
}

/** A delivery record planned: the exact bytes to append and their text (what the intent stores). */
interface Planned {
  bytes: Uint8Array;
  text: string;
}

interface Apply {
  row: InboxRow;
  message: NamespaceMessage;
  /** invoke/record whose entry is not in the log yet: its bytes. */
  record?: Uint8Array;
}

/** What became of the stream's messages while one request was handled. */
interface DrainState {
  appliedNow: Set<number>;
  /** Source indexes whose apply failed for a passing reason (the append was refused): their refusal. */
  failed: Map<number, InboxResult>;
  /**
   * The id and leaf hash verifyMessageProof computed for the request's messages, by source index:
   * their delivery records are built without canonicalizing them again (a row of an earlier
   * request, or another message at that index, is built the long way).
   */
  entryHashes: Map<number, { id: string; leafHash: Uint8Array }>;
}

function plan(entry: object): Planned {
  const bytes = entryToBytes(entry);
  return { bytes, text: utf8Decode(bytes) };
}

/**
 * Applies the proven messages of one stream (source origin → target namespace), in seq order and
 * exactly once per (source origin, index). Its caller runs it for one stream at a time (a
 * KeyedQueue), so what it reads of the stream's rows stays true until it writes — across its
 * awaits too: no other apply of the stream runs in between (another front end's writes are kept
 * out by the storage: admit() decides in its own transaction, and each transition of settle() is
 * a compare-and-set on the row's state).
 *
 * The order of writes is what makes a crash harmless. The target log is the truth: a message is
 * applied iff its delivery record is in the log. Before anything is appended the rows become
 * `applying` with the delivery record planned (the intent); once the append resolved they become
 * `applied` with its index. A crash in between leaves intents that reconciliation (at the next
 * open) resolves by looking for exactly those records in the log.
 *
 * A run of messages is applied with one append of their delivery records, in seq order. `record`
 * messages need two: their entries first, because a delivery record names its entry's index
 * (record_index), which the log assigns only when it appends — a delivery record cannot name it in
 * advance. The entries' indexes are stored (still `applying`) before the delivery records are
 * appended, so a crash between the two appends leaves each entry known, and only its delivery
 * record owed.
 */
export class StreamApplier {
  readonly #inFlight = new Map<string, number>();

  constructor(private readonly deps: StreamApplierDeps) {}

  /**
   * Takes the request's proven messages of one stream into it — held, or refused when they
   * conflict with what the stream already holds — then applies every message whose turn came.
   * Returns the result of each message by its position in the request, receipts not yet attached.
   */
  async apply(
    namespace: string,
    origin: string,
    messages: readonly StreamMessage[],
  ): Promise<Map<number, InboxResult>> {
    const out = new Map<number, InboxResult>();
    try {
      const refs = await this.admit(namespace, origin, messages, out);
      const state: DrainState = {
        appliedNow: new Set(),
        failed: new Map(),
        entryHashes: new Map(
          messages.map(({ proven }) => [proven.index, { id: proven.id, leafHash: proven.leafHash }]),
        ),
      };
      await this.drain(namespace, origin, state);
      const rows = await this.rowsOf(namespace, origin, refs);
      const answered = new Set<number>();
      for (const { pos, index, id } of refs) {
        out.set(pos, this.resultOf(rows.get(index)!, id, state, answered));
        answered.add(index);
      }
    } catch (e) {
      // A storage fault: whatever was not answered is refused with it (the sender retries).
      for (const { pos, proven } of messages) if (!out.has(pos)) out.set(pos, refusalOf(e, proven.id));
    }
    return out;
  }

  /**
   * Stores new messages as held and says which positions refer to which rows. A second message
   * for an entry already received, or for a seq of the stream another message holds or the stream
   * went past, is refused (MESSAGE_SEQ_CONFLICT) and stored nowhere. The storage decides and
   * stores in one step (InboxStorage.admit).
   */
  private async admit(
    namespace: string,
    origin: string,
    messages: readonly StreamMessage[],
    out: Map<number, InboxResult>,
  ): Promise<Ref[]> {
    const receivedMs = this.deps.now();
    const admissions = await this.deps.storage.admit(
      namespace,
      origin,
      messages.map(({ proven }) => ({
        sourceOrigin: origin,
        sourceIndex: proven.index,
        messageId: proven.id,
        namespace,
        seq: proven.message.seq,
        action: proven.message.action,
        message: JSON.stringify(proven.message),
        replyLinked: proven.replyLinked,
        receivedMs,
      })),
    );
    const refs: Ref[] = [];
    messages.forEach(({ pos, proven }, i) => {
      const { index, id } = proven;
      const seq = proven.message.seq;
      const refused = admissionConflict(admissions[i]!, { namespace, origin, index, id, seq });
      if (refused) out.set(pos, refused);
      else refs.push({ pos, index, id, seq });
    });
    return refs;
  }

  /**
   * The rows of the request's messages as they stand now, by source index: a row holds its
   * message's seq, so a run of consecutive seqs is one read of the stream, not one read a row.
   */
  private async rowsOf(namespace: string, origin: string, refs: readonly Ref[]): Promise<Map<number, InboxRow>> {
    const { storage } = this.deps;
    const rows = new Map<number, InboxRow>();
    const seqs = [...new Set(refs.map((r) => r.seq))].sort((a, b) => a - b);
    for (let i = 0; i < seqs.length;) {
      let j = i + 1;
      while (j < seqs.length && seqs[j] === seqs[j - 1]! + 1) j++;
      for (const row of await storage.streamFrom(namespace, origin, seqs[i]!, j - i)) rows.set(row.sourceIndex, row);
      i = j;
    }
    // A row not found by its seq (none should be): read by its key.
    for (const { index } of refs) {
      if (rows.has(index)) continue;
      const row = await storage.get(origin, index);
      if (row === undefined) throw new RemembrancerError('STORAGE_FAILURE', `inbox row ${origin} ${index} is missing`);
      rows.set(index, row);
    }
    return rows;
  }

  /** Applies runs of held messages from the stream's next seq on, until a gap (or a failed append). */
  private async drain(namespace: string, origin: string, state: DrainState): Promise<void> {
    const { storage } = this.deps;
    for (;;) {
      const next = await storage.nextSeq(namespace, origin);
      const rows = await storage.streamFrom(namespace, origin, next, MAX_RUN);
      const run: InboxRow[] = [];
      for (const row of rows) {
        // An intent left unresolved by a failed store write: only reconciliation may settle it.
        if (row.seq !== next + run.length || row.state === 'applying') break;
        run.push(row);
      }
      const held = run.filter((r) => r.state === 'held');
      if (held.length === 0) {
        if (run.length > 0) await storage.settle({ namespace, transitions: [], advance: [origin] });
        return;
      }
      if (!(await this.applyRun(namespace, origin, held, state))) return;
    }
  }

  /** Settles one run of held messages: refusals for good, applies by one or two appends. False if an append failed. */
  private async applyRun(
    namespace: string,
    origin: string,
    held: readonly InboxRow[],
    state: DrainState,
  ): Promise<boolean> {
    const { storage, directory, engine } = this.deps;
    const rules = directory.rules(namespace)!;
    const nowMs = this.deps.now();
    const turn = { rules, schemas: this.deps.schemas, auth: this.deps.auth, nowMs };
    const refusals: InboxTransition[] = [];
    const applies: Apply[] = [];
    for (const row of held) {
      const message = rowMessage(row);
      // A record entry already in the log (appended before a crash or a failed second append)
      // binds the message: only its delivery record is owed, whatever the rules say now.
      const decision =
        row.recordIndex !== undefined ? { apply: true as const } : decideAtTurn(message, row.replyLinked, turn);
      if (!decision.apply)
        refusals.push({ ...keyOf(row), to: 'refused', code: decision.code, message: decision.message });
      else applies.push({ row, message, ...(decision.record ? { record: decision.record } : {}) });
    }
    const acceptedAt = new Date(nowMs);
    const planned = new Map<number, Planned>();
    const deliveryOf = (a: Apply, recordIndex: number | undefined): Planned => {
      const hashes = state.entryHashes.get(a.row.sourceIndex);
      return plan(
        buildMessageDelivery({
          message: a.message,
          index: a.row.sourceIndex,
          acceptedAt,
          ...(recordIndex === undefined ? {} : { recordIndex }),
          ...(hashes?.id === a.row.messageId ? { entryHashes: hashes } : {}),
        }),
      );
    };
    for (const a of applies)
      if (a.record === undefined) planned.set(a.row.sourceIndex, deliveryOf(a, a.row.recordIndex));

    this.enter(namespace);
    try {
      await storage.settle({
        namespace,
        // The first intent of a namespace: no delivery record of this inbox is below its size now.
        initialScanMark: engine.sequencedSize(namespace),
        transitions: [
          ...refusals,
          ...applies.map((a): InboxTransition => ({
            ...keyOf(a.row),
            to: 'applying',
            delivery: planned.get(a.row.sourceIndex)?.text,
          })),
        ],
        ...(applies.length === 0 ? this.settled(namespace, origin) : { advance: [] }),
      });
      if (applies.length === 0) return true;

      const records = applies.filter((a) => a.record !== undefined);
      if (records.length > 0) {
        const appended = await this.append(
          namespace,
          origin,
          records.map((a) => a.record!),
          applies,
          state,
        );
        if (!appended) return false;
        const transitions = records.map((a, i): InboxTransition => {
          const recordIndex = appended[i]!.index;
          const delivery = deliveryOf(a, recordIndex);
          planned.set(a.row.sourceIndex, delivery);
          a.row.recordIndex = recordIndex;
          return { ...keyOf(a.row), to: 'recorded', recordIndex, delivery: delivery.text };
        });
        await storage.settle({ namespace, transitions, advance: [] });
      }

      const appended = await this.append(
        namespace,
        origin,
        applies.map((a) => planned.get(a.row.sourceIndex)!.bytes),
        applies,
        state,
      );
      if (!appended) return false;
      let listed = false;
      const transitions = applies.map((a, i): InboxTransition => {
        const inInbox = listedInInbox(a.message);
        listed ||= inInbox;
        return {
          ...keyOf(a.row),
          to: 'applied',
          delivery: planned.get(a.row.sourceIndex)!.text,
          deliveryIndex: appended[i]!.index,
          recordIndex: a.row.recordIndex,
          listed: inInbox,
        };
      });
      await storage.settle({ namespace, transitions, ...this.settled(namespace, origin) });
      for (const a of applies) state.appliedNow.add(a.row.sourceIndex);
      if (listed) this.deps.onItems(namespace);
      return true;
    } finally {
      this.leave(namespace);
    }
  }

  /**
   * One append of the run (under the namespace's limits). A refused append stored nothing: every
   * intent of the run goes back to held (a `record` entry already appended stays known), each
   * message is answered with the refusal, and the stream waits for a retry.
   */
  private async append(
    namespace: string,
    origin: string,
    entries: Uint8Array[],
    applies: readonly Apply[],
    state: DrainState,
  ): Promise<AppendResult[] | undefined> {
    try {
      const release = this.deps.admit(namespace, entries);
      try {
        return await this.deps.engine.append(namespace, entries);
      } finally {
        release();
      }
    } catch (e) {
      await this.deps.storage.settle({
        namespace,
        transitions: applies.map((a): InboxTransition => ({ ...keyOf(a.row), to: 'held' })),
        ...this.settled(namespace, origin),
      });
      for (const a of applies) state.failed.set(a.row.sourceIndex, refusalOf(e, a.row.messageId));
      return undefined;
    }
  }

  /**
   * What a settlement of rows adds: the stream moves past them, and — when no other append of
   * this inbox to the namespace is under way — every delivery record below the log's size has its
   * effect recorded, so reconciliation need not look below it again. Read while this apply is
   * still counted in flight (leave() comes after the settlement is stored), so another apply's
   * records are either settled already or appended after this size.
   */
  private settled(namespace: string, origin: string): Pick<InboxSettlement, 'advance' | 'raiseScanMark'> {
    return {
      advance: [origin],
      ...(this.#inFlight.get(namespace) === 1 ? { raiseScanMark: this.deps.engine.sequencedSize(namespace) } : {}),
    };
  }

  private enter(namespace: string): void {
    this.#inFlight.set(namespace, (this.#inFlight.get(namespace) ?? 0) + 1);
  }

  private leave(namespace: string): void {
    const n = (this.#inFlight.get(namespace) ?? 1) - 1;
    if (n === 0) this.#inFlight.delete(namespace);
    else this.#inFlight.set(namespace, n);
  }

  /**
   * The answer for a message as its row stands now (applied by any delivery: duplicate). Reads
   * only: a caller that answered `held` looks again once other deliveries had a moment.
   */
  async resultNow(origin: string, index: number, id: string): Promise<InboxResult> {
    const row = await this.deps.storage.get(origin, index);
    if (row === undefined) throw new RemembrancerError('STORAGE_FAILURE', `inbox row ${origin} ${index} is missing`);
    return this.resultOf(row, id, { appliedNow: new Set(), failed: new Map(), entryHashes: new Map() }, new Set());
  }

  /** The answer for a message of the request, from its row as the drain left it. */
  private resultOf(row: InboxRow, id: string, state: DrainState, answered: Set<number>): InboxResult {
    const index = row.sourceIndex;
    if (row.state === 'applied') {
      const first = state.appliedNow.has(index) && !answered.has(index);
      return {
        message_id: id,
        status: first ? 'accepted' : 'duplicate',
        delivery: { index: row.deliveryIndex!, entry: rowDelivery(row) },
      };
    }
    if (row.state === 'refused') return refusal(row.error!.code, row.error!.message, id);
    const failed = state.failed.get(index);
    if (failed) return failed;
    // Held, and already past its window: its refusal when its turn comes is certain, say it now.
    if (row.recordIndex === undefined && expiredAt(rowMessage(row), this.deps.now())) {
      return refusal(
        'MESSAGE_EXPIRED',
        `the message expired at ${rowMessage(row).expires_at}; an earlier seq of its stream has not arrived, and when it does this one is refused`,
        id,
      );
    }
    return { message_id: id, status: 'held' };
  }
}

/** A message of the request that refers to a row of the stream: its position, key and seq. */
interface Ref {
  pos: number;
  index: number;
  id: string;
  seq: number;
}

function keyOf(row: InboxRow): { sourceOrigin: string; sourceIndex: number } {
  return { sourceOrigin: row.sourceOrigin, sourceIndex: row.sourceIndex };
}

/** The refusal of a message its stream's admission did not take as the row it refers to; undefined if it did. */
function admissionConflict(
  a: Admission,
  m: { namespace: string; origin: string; index: number; id: string; seq: number },
): InboxResult | undefined {
  switch (a.kind) {
    case 'held':
      return undefined;
    case 'known':
      if (a.messageId === m.id) return undefined;
      return refusal(
        'MESSAGE_SEQ_CONFLICT',
        `entry ${m.index} of ${m.origin} was received as message ${a.messageId}, not ${m.id}: the source log shows two entries at one index`,
        m.id,
      );
    case 'seq-taken':
      return refusal(
        'MESSAGE_SEQ_CONFLICT',
        `seq ${m.seq} of the stream ${m.origin} → ${m.namespace} is entry ${a.sourceIndex} of the source log, not entry ${m.index}`,
        m.id,
      );
    case 'past':
      return refusal(
        'MESSAGE_SEQ_CONFLICT',
        `the stream ${m.origin} → ${m.namespace} is past seq ${m.seq} (next is ${a.nextSeq}), and entry ${m.index} was not its message`,
        m.id,
      );
  }
}
