import {
  buildMessageDelivery,
  canonicalize,
  errorMessage,
  isRemembrancerError,
  parseMessage,
  parseMessageDelivery,
  verifyMessageProof,
  verifyReceiptWith,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { MessageStatusView } from '@vaultmesh/node';
import type { MessageTrust } from './message-trust.js';

/*
 * `message status --verify`, offline once the documents are fetched: the two proofs a sender holds
 * (issue 12 item 4). Sent: the source log's tlog-proof proves the message entry — exactly the
 * message the status names — under a checkpoint the source's log key signed (core
 * verifyMessageProof, the receiver's own checks). Delivered: the target's delivery record names
 * this message, and its receipt proves that record is an entry of the target's log (core
 * verifyReceiptWith with the target's log key).
 */

export interface ProofCheck {
  name: string;
  ok: boolean;
  detail: string;
  code?: string;
}

export interface ProofVerification {
  ok: boolean;
  /** Where the log key checked came from (pinned, a registry, the node asked). */
  key: string;
  checks: ProofCheck[];
}

export interface MessageVerification {
  ok: boolean;
  sent: ProofVerification;
  delivered: ProofVerification;
}

function origin(endpoint: { node: string; namespace: string }): string {
  return `${endpoint.node}/${endpoint.namespace}`;
}

function checkOf(name: string, body: () => string, failCode: string): ProofCheck {
  try {
    return { name, ok: true, detail: body() };
  } catch (e) {
    return { name, ok: false, detail: errorMessage(e), code: isRemembrancerError(e) ? e.code : failCode };
  }
}

function missing(name: string, detail: string, code: string): ProofVerification {
  return { ok: false, key: '', checks: [{ name, ok: false, detail, code }] };
}

/** Nanosecond-exact times are not needed here: a millisecond decides nothing the receiver decided. */
function timeMs(rfc3339: string): number {
  return Date.parse(rfc3339);
}

/**
 * The sent proof: `entry` is the source log's entry at the status's index (GET /v1/ns/{src}/entries/{index}).
 * Expiry is judged at the delivery's accepted_at when delivered (the receiver's decision), else at sent_at.
 */
export function verifySent(view: MessageStatusView, entry: unknown, trust: MessageTrust): ProofVerification {
  if (view.sent_proof === undefined)
    return missing(
      'proof',
      `no sent proof yet: the message is ${view.state} (no sealed checkpoint covers it)`,
      'NOT_YET_SEALED',
    );
  const key = trust.logKey(origin(view.source));
  const travelling =
    entry !== null && typeof entry === 'object' && !Array.isArray(entry)
      ? { ...entry, payload: { ...(entry as { payload?: object }).payload, proof: view.sent_proof } }
      : entry;
  const acceptedAt = view.delivery?.entry.accepted_at;
  const result = verifyMessageProof(travelling, {
    logVerifiers: key.verifiers,
    witnessVerifiers: trust.witnessVerifiers,
    minWitnesses: trust.minWitnesses,
    target: view.target,
    now: timeMs(acceptedAt ?? view.sent_at),
  });
  const checks: ProofCheck[] = result.checks.map((c) => ({
    name: c.name,
    ok: c.ok,
    detail: c.name === 'expiry' && c.ok ? `${acceptedAt ? 'at delivery' : 'at sending'}: ${c.detail}` : c.detail,
    ...(c.code === undefined ? {} : { code: c.code }),
  }));
  if (result.ok) {
    checks.push(
      checkOf(
        'message',
        () => {
          if (result.messageId !== view.id)
            throw new Error(`the proven entry is message ${result.messageId}, not ${view.id}`);
          if (result.index !== view.index)
            throw new Error(`the proof is of entry ${result.index}, the status says ${view.index}`);
          return `the proven entry is message ${view.id}, entry ${view.index} of ${view.source.namespace}`;
        },
        'PROOF_MISMATCH',
      ),
    );
  }
  return { ok: checks.every((c) => c.ok), key: key.source, checks };
}

/**
 * The delivery proof: the record (namespace.message.delivery@1.0.0) is the one the target must
 * have appended for this message, and `receipt` (the status's, or one fetched since) proves it is
 * entry `delivery.index` of the target's log.
 */
export function verifyDelivered(
  view: MessageStatusView,
  entry: unknown,
  receipt: unknown,
  trust: MessageTrust,
): ProofVerification {
  const delivery = view.delivery;
  if (delivery === undefined) return missing('delivery', `not delivered: the message is ${view.state}`, 'NOT_FOUND');
  const checks: ProofCheck[] = [];
  let message: NamespaceMessage | undefined;
  checks.push(
    checkOf(
      'record',
      () => {
        message = parseMessage(entry);
        const record = parseMessageDelivery(delivery.entry);
        // Where the built-in `record` operation put its entry is the target's to say, not derived
        // from the message: taken from the record, as accepted_at is.
        const recordIndex = (record as { record_index?: number }).record_index;
        const expected = {
          ...buildMessageDelivery({ message, index: view.index, acceptedAt: record.accepted_at }),
          ...(recordIndex === undefined ? {} : { record_index: recordIndex }),
        };
        if (canonicalize(expected) !== canonicalize(record)) {
          throw new Error(
            `the delivery record does not name this message: expected ${canonicalize(expected)}, got ${canonicalize(record)}`,
          );
        }
        return `the delivery record names message ${record.message_id}, entry ${record.index} of ${record.source_origin}, seq ${record.seq}`;
      },
      'PROOF_MISMATCH',
    ),
  );
  const key = trust.logKey(origin(view.target));
  if (receipt === undefined) {
    checks.push({
      name: 'receipt',
      ok: false,
      detail: `no receipt of delivery entry ${delivery.index} yet (no checkpoint of the target covered it)`,
      code: 'NOT_YET_IN_CHECKPOINT',
    });
    return { ok: false, key: key.source, checks };
  }
  const r = verifyReceiptWith(receipt, {
    logVerifiers: key.verifiers,
    witnessVerifiers: trust.witnessVerifiers,
    witnessQuorum: trust.minWitnesses,
  });
  checks.push(
    ...r.checks.map((c) => ({
      name: c.name,
      ok: c.ok,
      detail: c.message ?? '',
      ...(c.code === undefined ? {} : { code: c.code }),
    })),
  );
  if (r.ok) {
    checks.push(
      checkOf(
        'receipt-entry',
        () => {
          const got = receipt as { namespace?: unknown; index?: unknown; entry?: unknown };
          if (got.namespace !== view.target.namespace)
            throw new Error(
              `the receipt is of namespace ${String(got.namespace)}, not the target ${view.target.namespace}`,
            );
          if (got.index !== delivery.index)
            throw new Error(`the receipt is of entry ${String(got.index)}, the delivery of entry ${delivery.index}`);
          if (canonicalize(got.entry) !== canonicalize(delivery.entry))
            throw new Error('the receipt proves another entry than the delivery record');
          return `the receipt proves the delivery record is entry ${delivery.index} of ${origin(view.target)}`;
        },
        'PROOF_MISMATCH',
      ),
    );
  }
  return { ok: checks.every((c) => c.ok), key: key.source, checks };
}

export function verifyMessage(
  view: MessageStatusView,
  entry: unknown,
  receipt: unknown,
  trust: MessageTrust,
): MessageVerification {
  const sent = verifySent(view, entry, trust);
  const delivered = verifyDelivered(view, entry, receipt, trust);
  return { ok: sent.ok && delivered.ok, sent, delivered };
}

/** The check lines people read, as `verify` prints them. */
export function verificationLines(v: MessageVerification): string[] {
  const part = (label: string, p: ProofVerification) => [
    `${label}${p.key ? ` (log key: ${p.key})` : ''}`,
    ...p.checks.map(
      (c) =>
        `  ${c.ok ? 'ok  ' : c.code ? 'FAIL' : 'skip'} ${c.name}: ${c.detail}${!c.ok && c.code ? ` (${c.code})` : ''}`,
    ),
  ];
  return [
    ...part('sent proof', v.sent),
    ...part('delivery proof', v.delivered),
    v.ok
      ? 'message verified: sent (source log) and delivered (target log)'
      : `message NOT verified${v.sent.ok ? ' (sent proof ok)' : ''}${v.delivered.ok ? ' (delivery proof ok)' : ''}`,
  ];
}
