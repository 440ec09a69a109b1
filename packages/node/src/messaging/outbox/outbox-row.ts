import type { MessageAction, MessageEndpoint, NamespaceMessage } from '@vaultmesh/core';
import type { DeliveryProof, InboxError, MessageState } from '../messaging-wire.js';

/** One message a namespace of this node sent, as the outbox keeps it (outbox_messages). */
export interface OutboxRow {
  /** messageId: lowercase hex SHA-256 of the message entry. */
  id: string;
  /** The source namespace. */
  namespace: string;
  /** The message entry's index in the source log. */
  index: number;
  target: MessageEndpoint;
  seq: number;
  action: MessageAction;
  operation: string;
  sentAt: string;
  expiresAt: string;
  inReplyTo?: string;
  /**
   * As stored: queued until a sealed checkpoint covers the entry, sealed while it is being
   * delivered, then delivered, refused or expired as the target answered. (`expired` as shown to
   * people also covers a message still undelivered past its expiry, see messageStatusView.)
   */
  state: MessageState;
  /** Delivery attempts made. */
  attempts: number;
  /** When the next delivery attempt (or, once delivered without a receipt, receipt fetch) is due, ms. */
  nextAttemptMs: number;
  /** refused: the target's code; otherwise the last failed attempt's. */
  error?: InboxError;
  /** Once delivered: the target's delivery record, and its receipt once one came. */
  delivery?: DeliveryProof;
  /** Requests made since delivery to fetch a receipt that did not come with it. */
  receiptAttempts: number;
}

/** What a delivery attempt changes in a row. */
export type RowUpdate = Pick<
  OutboxRow,
  'id' | 'state' | 'attempts' | 'nextAttemptMs' | 'error' | 'delivery' | 'receiptAttempts'
>;

/** A stream: the messages of one source namespace to one target namespace, numbered 1, 2, 3, … by seq. */
export interface StreamRef {
  namespace: string;
  target: MessageEndpoint;
}

/** A stream as one string, for maps. */
export function streamKey(s: StreamRef): string {
  return `${s.namespace}\n${s.target.node}\n${s.target.namespace}`;
}

/** The row of a message just appended at `index` (or found there by the recovery scan). */
export function sentRow(message: NamespaceMessage, id: string, index: number): OutboxRow {
  return {
    id,
    namespace: message.source.namespace,
    index,
    target: { node: message.target.node, namespace: message.target.namespace },
    seq: message.seq,
    action: message.action,
    operation: message.payload.operation,
    sentAt: message.sent_at,
    expiresAt: message.expires_at,
    ...(message.in_reply_to === undefined ? {} : { inReplyTo: message.in_reply_to }),
    state: 'queued',
    attempts: 0,
    nextAttemptMs: 0,
    receiptAttempts: 0,
  };
}
