import {
  RemembrancerError,
  base64Encode,
  buildMessageDelivery,
  bytesEqual,
  canonicalBytes,
  errorMessage,
  isJsonObject,
  isRemembrancerError,
  leafHash as rfc6962LeafHash,
  parseMessageDelivery,
  verifyReceiptWith,
  type ErrorCode,
  type MessageDelivery,
  type NamespaceMessage,
  type NoteVerifier,
  type Receipt,
} from '@vaultmesh/core';
import { INBOX_STATUSES, type DeliveryProof, type InboxError } from '../messaging-wire.js';

/*
 * What the outbox makes of a target's answer (issue 12, items 2 and 4). The answer is
 * attacker-controlled — another node, or a relay in between, wrote it — so nothing is stored until
 * it is checked: a delivery record must be exactly the one this message makes, and a receipt must
 * verify against the target's log key before the outbox keeps it as the proof of delivery.
 */

/**
 * Refusal codes that say "not now" rather than "never": more cosignatures may arrive
 * (POLICY_NOT_MET), the target is loaded or shutting down, its namespace is full (QUOTA_EXCEEDED:
 * the inbox keeps the message held, and applies it once governance raises the quota or a later
 * message of the stream arrives), or the message is early for its clock.
 */
export const RETRYABLE_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'POLICY_NOT_MET',
  'QUEUE_FULL',
  'RATE_LIMITED',
  'QUOTA_EXCEEDED',
  'MESSAGE_NOT_YET_VALID',
  'SERVER_BUSY',
  'SHUTTING_DOWN',
  'STORAGE_FAILURE',
  'REQUEST_TIMEOUT',
  'INTERNAL',
]);

/**
 * Whole-request refusals by the peer scope that a retry outlives: the target does not know this
 * node's (rotated) key yet, or the request was judged stale or replayed on its way.
 */
const PEER_AUTH_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'UNAUTHORIZED',
  'FORBIDDEN',
  'PEER_KEY_UNKNOWN',
  'SIGNATURE_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_INPUT_MALFORMED',
  'SIGNATURE_EXPIRED',
  'CONTENT_DIGEST_MISMATCH',
  'NONCE_REPLAYED',
  // A batch over the target's body limit: the target may be reconfigured; never refuse a message for it.
  'PAYLOAD_TOO_LARGE',
]);

/** Our codes' form: a code of another form is not repeated (it is attacker-controlled). */
const CODE_FORM = /^[A-Z][A-Z0-9_]{0,63}$/;
/** Characters of a target's refusal message kept. */
const MAX_KEPT_MESSAGE = 1024;

/** How a whole delivery request failed: retry later, or every message in it refused for good. */
export interface RequestFailure {
  retry: boolean;
  error: InboxError;
}

/** What one message's answer means for it. */
export type MessageOutcome =
  /** Applied at the target: the checked record, with the receipt when it came and verified. */
  | { kind: 'delivered'; delivery: DeliveryProof; receiptError?: InboxError }
  /** Try again later: held back for an earlier seq (no error), refused for now, or answered wrongly. */
  | { kind: 'retry'; error?: InboxError }
  | { kind: 'refused'; error: InboxError }
  | { kind: 'expired'; error: InboxError };

export function inboxError(code: ErrorCode, message: string): InboxError {
  return { code, message: message.length > MAX_KEPT_MESSAGE ? `${message.slice(0, MAX_KEPT_MESSAGE)}…` : message };
}

/** A refusal of a whole request, by the code the target (or the local inbox) gave. */
export function requestRefusal(code: string, message: string, status?: number): RequestFailure {
  const known = CODE_FORM.test(code);
  const error = inboxError(known ? (code as ErrorCode) : 'PEER_REQUEST_FAILED', message);
  // A route the target does not have (404 NOT_FOUND: a node not upgraded yet) or an overloaded
  // target comes back; a refusal in our codes is final unless the code says otherwise.
  const retry =
    !known ||
    RETRYABLE_CODES.has(code) ||
    PEER_AUTH_CODES.has(code) ||
    code === 'NOT_FOUND' ||
    (status !== undefined && (status >= 500 || status === 408 || status === 429));
  return { retry, error };
}

/** An error thrown while delivering (by the local inbox, or our own code): final only for a stable refusal code. */
export function thrownFailure(e: unknown): RequestFailure {
  if (!isRemembrancerError(e)) return { retry: true, error: inboxError('INTERNAL', errorMessage(e)) };
  return requestRefusal(e.code, e.message);
}

function answerMalformed(why: string): MessageOutcome {
  return { kind: 'retry', error: inboxError('PEER_ANSWER_MALFORMED', why) };
}

function sameBytes(a: unknown, b: unknown): boolean {
  try {
    return bytesEqual(canonicalBytes(a), canonicalBytes(b));
  } catch {
    return false;
  }
}

/**
 * sameBytes for two delivery records: equal JSON.stringify text means equal members and values, so
 * equal canonical bytes; only when the texts differ (members in another order) is it decided by
 * canonicalizing both. Records parsed by parseMessageDelivery have one member order.
 */
function sameRecord(a: MessageDelivery, b: MessageDelivery): boolean {
  return JSON.stringify(a) === JSON.stringify(b) || sameBytes(a, b);
}

/** The receipt, when it is the receipt of exactly this record under a checkpoint the target's log key signed. */
function checkedReceipt(
  receipt: unknown,
  record: MessageDelivery,
  index: number,
  targetLog: NoteVerifier | undefined,
): { receipt?: Receipt; error?: InboxError } {
  if (targetLog === undefined)
    return { error: inboxError('PEER_KEY_UNKNOWN', "the target's log key is not known here: receipt not kept") };
  const v = verifyReceiptWith(receipt, { logVerifiers: [targetLog] });
  if (!v.ok) {
    const failed = v.checks.find((c) => !c.ok);
    return {
      error: inboxError(
        (failed?.code as ErrorCode | undefined) ?? 'RECEIPT_MALFORMED',
        `the delivery receipt does not verify (${failed?.name ?? 'shape'}): ${failed?.message ?? ''}`,
      ),
    };
  }
  const r = receipt as Receipt;
  // The receipt's entry hashes to its leaf_hash (verified above), so the entry is the record
  // exactly when the record's leaf hash is that one: one canonicalization instead of two.
  const recordLeaf = base64Encode(rfc6962LeafHash(canonicalBytes(record)));
  if (r.namespace !== record.target.namespace || r.index !== index || r.leaf_hash !== recordLeaf) {
    return {
      error: inboxError(
        'PROOF_MISMATCH',
        'the delivery receipt is valid but proves another entry than the delivery record',
      ),
    };
  }
  return { receipt: r };
}

/**
 * Reads one result of a target's answer for `message` (the entry at `index` of the source log).
 * `targetLog` is the target log's key, named as its origin (undefined: not known, no receipt kept).
 * `leafHash`, the RFC 6962 leaf hash of the entry as the source log stores it (whose SHA-256 is
 * `id`), spares canonicalizing the message again to build the record it must match.
 */
export function messageOutcome(
  message: NamespaceMessage,
  id: string,
  index: number,
  result: unknown,
  targetLog: NoteVerifier | undefined,
  leafHash?: Uint8Array,
): MessageOutcome {
  if (!isJsonObject(result) || !(INBOX_STATUSES as readonly unknown[]).includes(result['status']))
    return answerMalformed('a result without a known status');
  if (result['message_id'] !== undefined && result['message_id'] !== id)
    return answerMalformed(`a result for another message than ${id}`);
  switch (result['status']) {
    case 'held':
      return { kind: 'retry' };
    case 'refused': {
      const error = result['error'];
      if (!isJsonObject(error) || typeof error['code'] !== 'string' || !CODE_FORM.test(error['code']))
        return answerMalformed('a refusal without an error code');
      const refusal = inboxError(
        error['code'] as ErrorCode,
        typeof error['message'] === 'string' ? error['message'] : '',
      );
      if (refusal.code === 'MESSAGE_EXPIRED') return { kind: 'expired', error: refusal };
      if (RETRYABLE_CODES.has(refusal.code)) return { kind: 'retry', error: refusal };
      return { kind: 'refused', error: refusal };
    }
    default: {
      const delivery = result['delivery'];
      if (!isJsonObject(delivery)) return answerMalformed('an acceptance without its delivery record');
      const at = delivery['index'];
      if (typeof at !== 'number' || !Number.isSafeInteger(at) || at < 0)
        return answerMalformed('a delivery record without a valid index');
      let record: MessageDelivery;
      try {
        record = parseMessageDelivery(delivery['entry']);
        // accepted_at and record_index (where the built-in record operation put the parameters in
        // the target log) are the target's to say; every other member follows from the message.
        const expected = buildMessageDelivery({
          message,
          index,
          acceptedAt: record.accepted_at,
          ...(record.record_index === undefined ? {} : { recordIndex: record.record_index }),
          ...(leafHash === undefined ? {} : { entryHashes: { id, leafHash } }),
        });
        if (!sameRecord(record, expected))
          throw new RemembrancerError(
            'MESSAGE_DELIVERY_MALFORMED',
            'the delivery record is not the record of this message',
          );
      } catch (e) {
        return answerMalformed(`the delivery record does not record this message: ${errorMessage(e)}`);
      }
      const proof: DeliveryProof = { index: at, entry: record };
      if (delivery['receipt'] === undefined) return { kind: 'delivered', delivery: proof };
      const { receipt, error } = checkedReceipt(delivery['receipt'], record, at, targetLog);
      if (receipt) proof.receipt = receipt;
      return { kind: 'delivered', delivery: proof, ...(error ? { receiptError: error } : {}) };
    }
  }
}
