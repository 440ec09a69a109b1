import type { ErrorCode, MessageDelivery, MessageEndpoint, Receipt } from '@vaultmesh/core';

/*
 * What the two halves of cross-namespace messaging (issue 12) say to each other and to clients:
 * the sender's outbox (messaging/outbox/) posts travelling messages to a target's inbox
 * (messaging/inbox/) and keeps what it answers. One definition here, so the outbox, the inbox,
 * the CLI and the tests read the same shapes; docs/messaging.md describes them for people.
 */

/** Anyone (the source node or a relay) posts a message with its proof to a public target namespace here. */
export function inboxPath(namespace: string): string {
  return `/v1/ns/${encodeURIComponent(namespace)}/inbox`;
}

/**
 * The peer-signed (RFC 9421) twin of inboxPath: how a node delivers to another node, and the only
 * way into a private namespace's inbox (a private message never travels unauthenticated).
 */
export function peerInboxPath(namespace: string): string {
  return `/v1/federation/peer/ns/${encodeURIComponent(namespace)}/inbox`;
}

/** Most messages in one inbox request (`{"messages": [...]}`): the sender's batching bound. */
export const MAX_INBOX_BATCH = 256;

/**
 * What became of one message at the target:
 * - accepted: verified and applied now (its delivery record appended);
 * - duplicate: applied before, by this or another delivery (same source origin and index): the
 *   delivery of that first application is returned again, nothing is applied twice;
 * - held: verified, but an earlier seq of its stream has not arrived: kept, applied in order later;
 * - refused: not applied, with the stable code of why (error).
 */
export const INBOX_STATUSES = ['accepted', 'duplicate', 'held', 'refused'] as const;
export type InboxStatus = (typeof INBOX_STATUSES)[number];

/** The proof of delivery: the delivery record in the target's log and its receipt. */
export interface DeliveryProof {
  /** Index of the delivery record in the target namespace's log. */
  index: number;
  /** The delivery record (namespace.message.delivery@1.0.0) as stored. */
  entry: MessageDelivery;
  /**
   * vaultmesh.receipt@1.0.0 of the record under a checkpoint of the target log; absent when no
   * checkpoint covered it within the wait (the sender asks again: a duplicate answer carries it).
   */
  receipt?: Receipt;
}

export interface InboxError {
  code: ErrorCode;
  message: string;
}

/** The target's answer for one message. */
export interface InboxResult {
  /** messageId of the message, when it parsed far enough to have one. */
  message_id?: string;
  status: InboxStatus;
  /** accepted and duplicate. */
  delivery?: DeliveryProof;
  /** refused. */
  error?: InboxError;
}

/** Answer to a batch (`{"messages": [...]}`): one result per message, in order. */
export interface InboxBatchAnswer {
  results: InboxResult[];
}

/** How a message reached the inbox: over the public route, a peer-signed request, or from this node itself. */
export type InboxVia = { kind: 'public' } | { kind: 'peer'; peer: string } | { kind: 'local' };

/**
 * The inbox as the outbox and the routes use it. Messages of one request are handled in order;
 * a per-message refusal is a result, never a throw.
 */
export interface InboxReceiver {
  receive(namespace: string, messages: readonly unknown[], via: InboxVia): Promise<InboxResult[]>;
}

/** What the inbox asks the outbox: was `queryId` a query this namespace sent to `from`? (replies are accepted for it). */
export interface ReplyLinker {
  linkReply(namespace: string, queryId: string, from: MessageEndpoint, replyId: string): Promise<boolean>;
}

/** One message as an application reads it from its inbox (GET /v1/ns/{ns}/inbox). */
export interface InboxItem {
  /** Position in the namespace's inbox: pass it as `after` to read on. */
  cursor: number;
  message_id: string;
  /** The message as it travelled, `payload.proof` included. */
  message: unknown;
  delivery: DeliveryProof;
}

export interface InboxPage {
  items: InboxItem[];
  /** The cursor to ask `after` next (the last item's, or `after` itself when none). */
  next: number;
}

/** States of a sent message (GET /v1/ns/{src}/messages/{id}). */
export const MESSAGE_STATES = ['queued', 'sealed', 'delivered', 'refused', 'expired'] as const;
export type MessageState = (typeof MESSAGE_STATES)[number];

/** GET /v1/ns/{src}/messages/{id}: what the sender knows of one message it sent. */
export interface MessageStatusView {
  id: string;
  source: MessageEndpoint;
  target: MessageEndpoint;
  action: string;
  operation: string;
  seq: number;
  /** The message entry's index in the source log. */
  index: number;
  state: MessageState;
  sent_at: string;
  expires_at: string;
  in_reply_to?: string;
  /** Delivery attempts made. */
  attempts: number;
  /** RFC 3339: when the next attempt is due (queued and sealed states). */
  next_attempt_at?: string;
  /** refused: the target's code; otherwise the last failed attempt's, while it retries. */
  error?: InboxError;
  /** Once sealed: the c2sp.org/tlog-proof@v1 text the message travels with (proof it was sent). */
  sent_proof?: string;
  /** Once delivered: the target's delivery record and its receipt (proof it was delivered). */
  delivery?: DeliveryProof;
  /** Ids of messages received in answer (in_reply_to this one). */
  replies: string[];
}

/** The inbox as the routes use it: receiving, and reading for applications (RouteContext.inbox). */
export interface InboxService extends InboxReceiver {
  /** Items of the namespace's inbox after cursor `after`, oldest first, at most `limit`. */
  page(namespace: string, after: number, limit: number): Promise<InboxPage>;
  /** Resolves once an item after `after` exists, `timeoutMs` passed, or `signal` aborted (long-poll, SSE). */
  waitForItems(namespace: string, after: number, timeoutMs: number, signal?: AbortSignal): Promise<void>;
}

/** What POST /v1/ns/{src}/messages answers (202) for each message. */
export interface SentMessage {
  id: string;
  /** The message entry's index in the source log. */
  index: number;
  seq: number;
  state: MessageState;
}

/** The outbox as the routes use it (RouteContext.outbox). */
export interface OutboxService {
  /**
   * Appends the messages (send requests: target, action, payload {operation, parameters},
   * expires_at?, in_reply_to?) to the source namespace's log, all or none, and queues them for
   * delivery. The caller has authorized the writer.
   */
  send(namespace: string, requests: readonly unknown[]): Promise<SentMessage[]>;
  status(namespace: string, id: string): Promise<MessageStatusView | undefined>;
}
