import { RemembrancerError } from '../errors.js';
import type { JsonObject } from '../namespace/json-members.js';
import { MESSAGE_FORMAT } from './message.js';
import { MESSAGE_DELIVERY_FORMAT } from './message-delivery.js';

/** Entry formats only a node appends: its outbox the messages, its inbox the delivery records. */
export const NODE_BUILT_FORMATS: readonly string[] = [MESSAGE_FORMAT, MESSAGE_DELIVERY_FORMAT];

/**
 * Refuses an entry a writer (POST /entries) or a `record` message would append whose `format` is
 * one only the node writes. A message entry in a log is what receivers accept as sent from it, and
 * a delivery record is what makes a message count as delivered: one slipped in as plain data
 * would send a message outside the outbox (reusing a seq) or mark one delivered that was not.
 * FORBIDDEN, pointer `/format`.
 */
export function refuseNodeBuiltFormat(entry: JsonObject): void {
  const format = entry['format'];
  if (typeof format === 'string' && NODE_BUILT_FORMATS.includes(format)) {
    throw new RemembrancerError(
      'FORBIDDEN',
      `entries of format ${format} are appended by the node itself: messages are sent with POST /v1/ns/{ns}/messages`,
      { pointer: '/format' },
    );
  }
}
