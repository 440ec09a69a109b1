import { crypto } from '../crypto/index.js';
import { toHex } from '../encoding/index.js';
import { entryLeafData } from '../entry/index.js';
import type { JsonObject } from '../namespace/json-members.js';
import type { NamespaceMessage } from './message.js';

/**
 * The message as its source log stores it: every member but `payload.proof` (an entry cannot hold
 * the proof of its own inclusion). Built member by member, so a value carrying more than the
 * format's members (a cast, a later version's field) never changes the bytes or the id.
 */
export function messageEntry(message: NamespaceMessage): JsonObject {
  const { source, target, payload } = message;
  const entry: JsonObject = {
    format: message.format,
    source: { node: source.node, namespace: source.namespace },
    target: { node: target.node, namespace: target.namespace },
    action: message.action,
    payload: { operation: payload.operation, parameters: payload.parameters },
    seq: message.seq,
    sent_at: message.sent_at,
    expires_at: message.expires_at,
  };
  if (message.in_reply_to !== undefined) entry['in_reply_to'] = message.in_reply_to;
  return entry;
}

/**
 * The entry bytes of a message: UTF-8 of the RFC 8785 JCS of messageEntry, within the entry bounds
 * (entryLeafData: ENTRY_TOO_LARGE, ENTRY_TOO_DEEP). These are the leaf data the source log appends
 * and the tlog-proof proves. Does not validate the message: parse attacker input with parseMessage.
 */
export function messageEntryBytes(message: NamespaceMessage): Uint8Array {
  return entryLeafData(messageEntry(message));
}

/**
 * The message id: lowercase hex SHA-256 of messageEntryBytes. It names the entry, so the id is the
 * same with or without `payload.proof`, whoever relays the message, and a second message with the
 * same id is the same entry (the RFC 6962 leaf hash would do as well, but a plain digest is what a
 * client can compute without knowing tree hashing).
 */
export function messageId(message: NamespaceMessage): string {
  return toHex(crypto.sha256(messageEntryBytes(message)));
}
