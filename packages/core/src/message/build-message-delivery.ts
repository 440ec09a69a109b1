import { crypto } from '../crypto/index.js';
import { base64Encode, toHex } from '../encoding/index.js';
import { leafHash } from '../merkle/index.js';
import type { NamespaceMessage } from './message.js';
import { MESSAGE_DELIVERY_FORMAT, parseMessageDelivery, type MessageDelivery } from './message-delivery.js';
import { messageEntryBytes } from './message-entry.js';
import { endpointOrigin, timestampOf } from './message-members.js';
import { parseMessage } from './parse-message.js';

export interface BuildMessageDeliveryInput {
  /** The accepted message (with or without its proof). */
  message: NamespaceMessage;
  /** Its entry's index in the source log (the tlog-proof's index). */
  index: number;
  /** A Date, or an RFC 3339 UTC timestamp. */
  acceptedAt: Date | string;
  /** The target-log index of the entry the built-in `record` operation appended for the message, if it ran. */
  recordIndex?: number;
  /**
   * The message's id and RFC 6962 leaf hash, when the caller already has them from its entry bytes
   * (verifyMessageProof's messageId and leafHash, or the source log's stored entry): the message is
   * then taken as parsed (parseMessage's result) and not canonicalized again — the cost of a
   * record is then that of its own members. They must be the hashes of exactly this message's
   * entry; the record's members are still checked by parseMessageDelivery.
   */
  entryHashes?: { id: string; leafHash: Uint8Array };
}

/**
 * The delivery record of an accepted message: every member derived from the message itself (id,
 * origin, leaf hash, seq, target, action), so it cannot disagree with it, then checked by
 * parseMessageDelivery. Throws MESSAGE_MALFORMED for a malformed message, and
 * MESSAGE_DELIVERY_MALFORMED (with the member's pointer) for a bad index, time or record index.
 */
export function buildMessageDelivery(input: BuildMessageDeliveryInput): MessageDelivery {
  let message: NamespaceMessage;
  let id: string;
  let leaf: Uint8Array;
  if (input.entryHashes === undefined) {
    message = parseMessage(input.message);
    const entry = messageEntryBytes(message);
    id = toHex(crypto.sha256(entry));
    leaf = leafHash(entry);
  } else {
    message = input.message;
    ({ id, leafHash: leaf } = input.entryHashes);
  }
  return parseMessageDelivery({
    format: MESSAGE_DELIVERY_FORMAT,
    message_id: id,
    source_origin: endpointOrigin(message.source),
    index: input.index,
    leaf_hash: base64Encode(leaf),
    seq: message.seq,
    target: message.target,
    action: message.action,
    accepted_at: timestampOf('MESSAGE_DELIVERY_MALFORMED', input.acceptedAt, '/accepted_at'),
    ...(input.recordIndex === undefined ? {} : { record_index: input.recordIndex }),
  });
}
