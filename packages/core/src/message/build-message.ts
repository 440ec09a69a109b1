import type { JsonObject } from '../namespace/json-members.js';
import { MESSAGE_FORMAT, type MessageAction, type MessageEndpoint, type NamespaceMessage } from './message.js';
import { timestampOf } from './message-members.js';
import { parseMessage } from './parse-message.js';

export interface BuildMessageInput {
  source: MessageEndpoint;
  target: MessageEndpoint;
  action: MessageAction;
  operation: string;
  parameters: JsonObject;
  /** The next number of the stream source namespace → target namespace, from 1. */
  seq: number;
  /** A Date, or an RFC 3339 UTC timestamp as federation documents spell it. */
  sentAt: Date | string;
  /** After sentAt. */
  expiresAt: Date | string;
  /** The id of the message this one answers. */
  inReplyTo?: string;
}

/**
 * The message entry a source namespace appends (no `payload.proof`): `format` filled in, Dates
 * spelled as RFC 3339 UTC, then checked by parseMessage, so a built message is always one every
 * receiver parses. Throws MESSAGE_MALFORMED with the pointer of the member in the document.
 */
export function buildMessage(input: BuildMessageInput): NamespaceMessage {
  const doc: JsonObject = {
    format: MESSAGE_FORMAT,
    source: input.source,
    target: input.target,
    action: input.action,
    payload: { operation: input.operation, parameters: input.parameters },
    seq: input.seq,
    sent_at: timestampOf('MESSAGE_MALFORMED', input.sentAt, '/sent_at'),
    expires_at: timestampOf('MESSAGE_MALFORMED', input.expiresAt, '/expires_at'),
  };
  if (input.inReplyTo !== undefined) doc['in_reply_to'] = input.inReplyTo;
  return parseMessage(doc);
}

/**
 * The message as it travels: a copy with `payload.proof` set to the tlog-proof text of its entry
 * (e.g. a receipt's `tlog_proof`), replacing any proof it had. The text is checked for form only
 * (MESSAGE_MALFORMED at /payload/proof); verifyMessageProof checks what it proves.
 */
export function withProof(message: NamespaceMessage, proofText: string): NamespaceMessage {
  return parseMessage({ ...message, payload: { ...message.payload, proof: proofText } });
}
