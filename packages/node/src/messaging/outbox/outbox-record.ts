import { RemembrancerError, type MessageAction, type MessageDelivery, type Receipt } from '@vaultmesh/core';
import { MESSAGE_STATES, type MessageState } from '../messaging-wire.js';
import type { OutboxRow, RowUpdate } from './outbox-row.js';
import type { DeliveryLane } from './outbox-storage.js';

/** A row of outbox_messages as both backends read it (the same columns, the same values). */
export interface MessageRecord {
  id: string;
  namespace: string;
  idx: number;
  target_node: string;
  target_namespace: string;
  seq: number;
  action: string;
  operation: string;
  sent_at: string;
  expires_at: string;
  in_reply_to: string | null;
  state: string;
  attempts: number;
  next_attempt_ms: number;
  error_code: string | null;
  error_message: string | null;
  delivery_index: number | null;
  delivery_entry: string | null;
  receipt: string | null;
  receipt_attempts: number;
}

export const OUTBOX_COLUMNS =
  'id, namespace, idx, target_node, target_namespace, seq, action, operation, sent_at, expires_at, in_reply_to, ' +
  'state, attempts, next_attempt_ms, error_code, error_message, delivery_index, delivery_entry, receipt, receipt_attempts';

/** The rows in each lane; each backend has a partial index on (stream, seq) for exactly this condition. */
export const LANE_WHERE: Record<DeliveryLane, string> = {
  deliver: `state = 'sealed'`,
  receipt: `state = 'delivered' AND receipt IS NULL`,
};

/** A new row's values, in OUTBOX_COLUMNS order (error, delivery and receipt start empty). */
export function sentValues(r: OutboxRow): Array<string | number | null> {
  return [
    r.id,
    r.namespace,
    r.index,
    r.target.node,
    r.target.namespace,
    r.seq,
    r.action,
    r.operation,
    r.sentAt,
    r.expiresAt,
    r.inReplyTo ?? null,
    r.state,
    r.attempts,
    r.nextAttemptMs,
    null,
    null,
    null,
    null,
    null,
    r.receiptAttempts,
  ];
}

/** What update() writes for one row: state, attempts, next_attempt_ms, error, delivery, receipt, receipt_attempts, then id. */
export function updateValues(u: RowUpdate): Array<string | number | null> {
  return [
    u.state,
    u.attempts,
    u.nextAttemptMs,
    u.error?.code ?? null,
    u.error?.message ?? null,
    u.delivery?.index ?? null,
    u.delivery ? JSON.stringify(u.delivery.entry) : null,
    u.delivery?.receipt ? JSON.stringify(u.delivery.receipt) : null,
    u.receiptAttempts,
    u.id,
  ];
}

export function toOutboxRow(r: MessageRecord): OutboxRow {
  if (!(MESSAGE_STATES as readonly string[]).includes(r.state))
    throw new RemembrancerError('STORAGE_FAILURE', `corrupt outbox row ${r.id}: state ${JSON.stringify(r.state)}`);
  const row: OutboxRow = {
    id: r.id,
    namespace: r.namespace,
    index: r.idx,
    target: { node: r.target_node, namespace: r.target_namespace },
    seq: r.seq,
    action: r.action as MessageAction,
    operation: r.operation,
    sentAt: r.sent_at,
    expiresAt: r.expires_at,
    state: r.state as MessageState,
    attempts: r.attempts,
    nextAttemptMs: r.next_attempt_ms,
    receiptAttempts: r.receipt_attempts,
  };
  if (r.in_reply_to !== null) row.inReplyTo = r.in_reply_to;
  if (r.error_code !== null) row.error = { code: r.error_code as never, message: r.error_message ?? '' };
  if (r.delivery_index !== null && r.delivery_entry !== null) {
    // Written by update() from a checked delivery record and a verified receipt.
    row.delivery = {
      index: r.delivery_index,
      entry: JSON.parse(r.delivery_entry) as MessageDelivery,
      ...(r.receipt === null ? {} : { receipt: JSON.parse(r.receipt) as Receipt }),
    };
  }
  return row;
}

/** A stream-key row (namespace, target_node, target_namespace, …) as a StreamRef. */
export function streamOf(r: { namespace: string; target_node: string; target_namespace: string }) {
  return { namespace: r.namespace, target: { node: r.target_node, namespace: r.target_namespace } };
}
