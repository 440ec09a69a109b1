import { base64Hash, utcTimestamp } from '../anchoring/document-members.js';
import { ORIGIN_PATTERN } from '../federation/equivocation-evidence.js';
import { DIGEST_PATTERN } from '../federation/registry-set.js';
import { integerIn, refuse, stringMatching } from '../namespace/json-members.js';
import type { MessageAction, MessageEndpoint } from './message.js';
import { exactObject, messageAction, messageEndpoint } from './message-members.js';

/*
 * `namespace.message.delivery@1.0.0` (schemas/namespace.message.delivery@1.0.0.json, issue 12
 * item 4): what a target namespace appends to its own log when it accepts a message. It is the
 * exactly-once marker — a message is applied at most once per (source_origin, index) — and, with
 * the receipt of this entry, the sender's proof of delivery. It points at the message entry in
 * the source log by origin, index and RFC 6962 leaf hash (enough to check it against that log's
 * proofs without the message); `seq`, `target` and `action` let the target rebuild the state of
 * each stream (the next seq expected, which queries await an answer) from its own log alone.
 * When the message ran the built-in `record` operation, `record_index` points at the entry it
 * appended to the target log (appended before this record).
 */

export const MESSAGE_DELIVERY_FORMAT = 'namespace.message.delivery@1.0.0';

export interface MessageDelivery {
  format: typeof MESSAGE_DELIVERY_FORMAT;
  /** messageId of the delivered message. */
  message_id: string;
  /** The source log's checkpoint origin, `<source node>/<source namespace>`. */
  source_origin: string;
  /** The message entry's index in the source log. */
  index: number;
  /** Standard base64 RFC 6962 leaf hash of the message entry (messageEntryBytes). */
  leaf_hash: string;
  /** The message's seq in its stream. */
  seq: number;
  /** The message's target: the namespace whose log holds this record. */
  target: MessageEndpoint;
  action: MessageAction;
  /** RFC 3339 UTC time the target accepted the message. */
  accepted_at: string;
  /**
   * Index, in the target log, of the entry the built-in `record` operation appended for this
   * message (appended before this record); absent for any other operation.
   */
  record_index?: number;
}

const E = 'MESSAGE_DELIVERY_MALFORMED' as const;
const MEMBERS = [
  'format',
  'message_id',
  'source_origin',
  'index',
  'leaf_hash',
  'seq',
  'target',
  'action',
  'accepted_at',
  'record_index',
];
const OPTIONAL = ['record_index'];

/**
 * Checks a delivery record (attacker-controlled: a sender reads it from another node's answer or
 * log) and returns a copy holding exactly its members (`record_index` only when given): what the
 * JSON Schema checks, plus that `accepted_at` names a real calendar day. Whether it records a given message is for the caller
 * to compare (buildMessageDelivery gives the expected members). Throws MESSAGE_DELIVERY_MALFORMED
 * with the offending member's JSON pointer.
 */
export function parseMessageDelivery(value: unknown): MessageDelivery {
  const d = exactObject(E, value, '', MEMBERS, OPTIONAL);
  if (d['format'] !== MESSAGE_DELIVERY_FORMAT) refuse(E, '/format', `must be "${MESSAGE_DELIVERY_FORMAT}"`);
  const delivery: MessageDelivery = {
    format: MESSAGE_DELIVERY_FORMAT,
    message_id: stringMatching(
      E,
      d['message_id'],
      '/message_id',
      DIGEST_PATTERN,
      'a message id (lowercase hex SHA-256)',
    ),
    source_origin: stringMatching(
      E,
      d['source_origin'],
      '/source_origin',
      ORIGIN_PATTERN,
      'a log origin <node name>/<namespace id>',
    ),
    index: integerIn(E, d['index'], '/index', 0, Number.MAX_SAFE_INTEGER),
    leaf_hash: base64Hash(E, d['leaf_hash'], '/leaf_hash'),
    seq: integerIn(E, d['seq'], '/seq', 1, Number.MAX_SAFE_INTEGER),
    target: messageEndpoint(E, d['target'], '/target'),
    action: messageAction(E, d['action'], '/action'),
    accepted_at: utcTimestamp(E, d['accepted_at'], '/accepted_at'),
  };
  // Absent stays absent (undefined is absent too): the record's bytes are exactly its members.
  if (d['record_index'] !== undefined) {
    delivery.record_index = integerIn(E, d['record_index'], '/record_index', 0, Number.MAX_SAFE_INTEGER);
  }
  return delivery;
}
