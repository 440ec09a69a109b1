import type { NewInboxRow } from '../../../src/messaging/inbox/inbox-record.js';

/**
 * An offered message of the stream from `origin` into `namespace`, at `seq` and the source's
 * `sourceIndex`, as inbox storage tests admit it; `note` goes into its body (non-ASCII on purpose).
 */
export function inboxOffer(
  seq: number,
  sourceIndex: number,
  origin: string,
  namespace: string,
  note: string,
): NewInboxRow {
  return {
    sourceOrigin: origin,
    sourceIndex,
    messageId: `id-${origin}-${sourceIndex}`,
    namespace,
    seq,
    action: 'notify',
    message: JSON.stringify({ seq, note }),
    replyLinked: seq % 2 === 0,
    receivedMs: 1_700_000_000_000 + seq,
  };
}

/** A row's key in settle transitions. */
export const offerKey = (m: NewInboxRow) => ({ sourceOrigin: m.sourceOrigin, sourceIndex: m.sourceIndex });
