import { parseMessageDelivery, type MessageDelivery, type NamespaceMessage } from '@vaultmesh/core';
import type { InboxRow, InboxStore } from './inbox-store.js';
import { isRecord } from './turn-decision.js';

/*
 * What the inbox reads off its own rows. Rows hold only what the inbox wrote after checking it
 * (parseMessage, buildMessageDelivery), so parsing them again is reading, not validation.
 */

/** The message a row holds, as it travelled. */
export function rowMessage(row: InboxRow): NamespaceMessage {
  return JSON.parse(row.message) as NamespaceMessage;
}

/** The delivery record of an applied row. */
export function rowDelivery(row: InboxRow): MessageDelivery {
  return parseMessageDelivery(JSON.parse(row.delivery!));
}

/**
 * Whether an applied message is listed in its namespace's application inbox: notify, query and
 * invoke of an operation other than the built-in `record` (whose effect is the entry it appended)
 * are the application's to act on.
 */
export function listedInInbox(message: NamespaceMessage): boolean {
  return !isRecord(message);
}

/** Settled rows: the stream goes past them. */
export function isFinal(row: InboxRow): boolean {
  return row.state === 'applied' || row.state === 'refused';
}

/** How many rows a stream walk reads at a time. */
const WALK_CHUNK = 256;

/**
 * Moves the stream's next seq past every settled row from where it stands and returns it. Call
 * inside the transaction that settled them, so the stream state and the rows agree.
 */
export function advanceStream(store: InboxStore, namespace: string, origin: string): number {
  const start = store.nextSeq(namespace, origin);
  let next = start;
  for (;;) {
    const rows = store.streamFrom(namespace, origin, next, WALK_CHUNK);
    let i = 0;
    while (i < rows.length && rows[i]!.seq === next && isFinal(rows[i]!)) {
      next++;
      i++;
    }
    if (i < WALK_CHUNK) break;
  }
  if (next !== start) store.setNextSeq(namespace, origin, next);
  return next;
}
