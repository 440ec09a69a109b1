import type { NewInboxRow } from './inbox-record.js';

/** What became of one message offered to its stream (InboxStorage.admit). */
export type Admission =
  /** Stored now, as held. */
  | { kind: 'held' }
  /** Its entry (source origin, index) was already received, as message `messageId` (the same one, or not). */
  | { kind: 'known'; messageId: string }
  /** Its seq is held by another entry of the source log, `sourceIndex`. */
  | { kind: 'seq-taken'; sourceIndex: number }
  /** The stream is past its seq (`nextSeq` is what it applies next), and the entry was not its message. */
  | { kind: 'past'; nextSeq: number };

/** What a stream holds that admission checks candidates against, read in the admitting transaction. */
export interface StreamHoldings {
  /** The seq the stream applies next. */
  nextSeq: number;
  /** Message ids already received, by source index (for the candidates' indexes). */
  idsByIndex: ReadonlyMap<number, string>;
  /** Source indexes holding seqs of the stream (for the candidates' seqs). */
  indexBySeq: ReadonlyMap<number, number>;
}

/**
 * Decides each candidate in order, the ones before it counted as stored: an entry already
 * received is `known`; a seq another entry holds is `seq-taken`; a seq the stream is past is
 * `past`; anything else is stored held. Both backends run it inside one transaction over what
 * they read there, so the decision and the inserts are one atomic step.
 */
export function decideAdmission(
  candidates: readonly NewInboxRow[],
  held: StreamHoldings,
): { admissions: Admission[]; inserts: NewInboxRow[] } {
  const ids = new Map(held.idsByIndex);
  const bySeq = new Map(held.indexBySeq);
  const admissions: Admission[] = [];
  const inserts: NewInboxRow[] = [];
  for (const c of candidates) {
    const known = ids.get(c.sourceIndex);
    const holder = bySeq.get(c.seq);
    if (known !== undefined) admissions.push({ kind: 'known', messageId: known });
    else if (holder !== undefined) admissions.push({ kind: 'seq-taken', sourceIndex: holder });
    else if (c.seq < held.nextSeq) admissions.push({ kind: 'past', nextSeq: held.nextSeq });
    else {
      admissions.push({ kind: 'held' });
      inserts.push(c);
      ids.set(c.sourceIndex, c.messageId);
      bySeq.set(c.seq, c.sourceIndex);
    }
  }
  return { admissions, inserts };
}
