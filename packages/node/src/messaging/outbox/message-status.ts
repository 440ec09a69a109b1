import type { MessageStatusView } from '../messaging-wire.js';
import type { OutboxRow } from './outbox-row.js';
import { timestampMs } from './timestamp-ms.js';

/**
 * GET /v1/ns/{src}/messages/{id}: a row as people read it. A message past its expiry that no
 * target answered shows `expired` (the outbox still delivers it: the target must hear of it to
 * move its stream past it, and it answers MESSAGE_EXPIRED), with the next attempt still shown.
 */
export function messageStatusView(
  row: OutboxRow,
  source: string,
  nowMs: number,
  extra: { sentProof?: string; replies: string[] },
): MessageStatusView {
  const pending = row.state === 'queued' || row.state === 'sealed';
  const view: MessageStatusView = {
    id: row.id,
    source: { node: source, namespace: row.namespace },
    target: row.target,
    action: row.action,
    operation: row.operation,
    seq: row.seq,
    index: row.index,
    state: pending && nowMs > timestampMs(row.expiresAt) ? 'expired' : row.state,
    sent_at: row.sentAt,
    expires_at: row.expiresAt,
    attempts: row.attempts,
    replies: extra.replies,
  };
  if (row.inReplyTo !== undefined) view.in_reply_to = row.inReplyTo;
  if (row.state === 'sealed') view.next_attempt_at = new Date(row.nextAttemptMs).toISOString();
  if (row.error) view.error = row.error;
  if (extra.sentProof !== undefined) view.sent_proof = extra.sentProof;
  if (row.delivery) view.delivery = row.delivery;
  return view;
}
