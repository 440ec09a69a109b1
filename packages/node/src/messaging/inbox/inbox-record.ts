import { RemembrancerError, type ErrorCode } from '@vaultmesh/core';

export const INBOX_ROW_STATES = ['held', 'applying', 'applied', 'refused'] as const;
export type InboxRowState = (typeof INBOX_ROW_STATES)[number];

/** One message a target namespace took into one of its streams (see inbox-schema.ts for the states). */
export interface InboxRow {
  sourceOrigin: string;
  sourceIndex: number;
  messageId: string;
  /** The target namespace. */
  namespace: string;
  seq: number;
  action: string;
  /** The message as it travelled (JSON text, `payload.proof` included). */
  message: string;
  /** in_reply_to names a query this namespace sent to the source (accepted whatever accept_from says). */
  replyLinked: boolean;
  state: InboxRowState;
  /** applying: the delivery record planned (JSON); applied: as stored. */
  delivery?: string;
  deliveryIndex?: number;
  /** invoke/record: the index of the entry that recorded `parameters`. */
  recordIndex?: number;
  /** refused: why, for good. */
  error?: { code: ErrorCode; message: string };
  receivedMs: number;
}

/** A new row: every member a row starts with. */
export type NewInboxRow = Omit<InboxRow, 'state' | 'delivery' | 'deliveryIndex' | 'recordIndex' | 'error'>;

/** An application inbox item as stored: its cursor and the applied message it lists. */
export interface StoredInboxItem {
  cursor: number;
  row: InboxRow;
}

/** A row of inbox_messages as both backends read it (the same columns, the same values). */
export interface InboxRecord {
  source_origin: string;
  source_index: number;
  message_id: string;
  namespace: string;
  seq: number;
  action: string;
  message: string;
  reply_linked: number;
  state: string;
  delivery: string | null;
  delivery_index: number | null;
  record_index: number | null;
  error_code: string | null;
  error_message: string | null;
  received_ms: number;
}

export const INBOX_COLUMNS =
  'source_origin, source_index, message_id, namespace, seq, action, message, reply_linked, state, delivery, delivery_index, record_index, error_code, error_message, received_ms';

/** INBOX_COLUMNS of the table aliased `m` (for joins). */
export const INBOX_COLUMNS_OF_M = INBOX_COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ');

export function toInboxRow(r: InboxRecord): InboxRow {
  if (!(INBOX_ROW_STATES as readonly string[]).includes(r.state))
    throw new RemembrancerError('STORAGE_FAILURE', `corrupt inbox row: state ${JSON.stringify(r.state)}`);
  const row: InboxRow = {
    sourceOrigin: r.source_origin,
    sourceIndex: r.source_index,
    messageId: r.message_id,
    namespace: r.namespace,
    seq: r.seq,
    action: r.action,
    message: r.message,
    replyLinked: r.reply_linked === 1,
    state: r.state as InboxRowState,
    receivedMs: r.received_ms,
  };
  if (r.delivery !== null) row.delivery = r.delivery;
  if (r.delivery_index !== null) row.deliveryIndex = r.delivery_index;
  if (r.record_index !== null) row.recordIndex = r.record_index;
  if (r.error_code !== null) row.error = { code: r.error_code as ErrorCode, message: r.error_message ?? '' };
  return row;
}

/** The error both backends throw when a row is not in the state a transition expects (a lost race, or a bug). */
export function notInState(from: InboxRowState, sourceOrigin: string, sourceIndex: number): RemembrancerError {
  return new RemembrancerError(
    'STORAGE_FAILURE',
    `inbox row ${sourceOrigin}#${sourceIndex} was not ${from} as expected`,
  );
}
