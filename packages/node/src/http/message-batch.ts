import { RemembrancerError, isJsonObject } from '@vaultmesh/core';

/**
 * The messages of a request body (attacker-controlled): one message, or `{"messages": [...]}`
 * with 1..`max` of them and no other member. Both sides of messaging take this shape — a send
 * (POST /v1/ns/{ns}/messages) and a delivery (the inbox routes) — with their own limits.
 */
export function messageBatchOf(body: unknown, max: number): { messages: readonly unknown[]; batch: boolean } {
  if (!isJsonObject(body) || !Object.hasOwn(body, 'messages')) return { messages: [body], batch: false };
  const messages = body['messages'];
  if (Object.keys(body).length !== 1 || !Array.isArray(messages))
    throw new RemembrancerError('MESSAGE_MALFORMED', 'a batch is {"messages": [ ... ]} and nothing else', {
      pointer: '/messages',
    });
  if (messages.length === 0)
    throw new RemembrancerError('MESSAGE_MALFORMED', 'the batch has no messages', { pointer: '/messages' });
  if (messages.length > max)
    throw new RemembrancerError('PAYLOAD_TOO_LARGE', `the batch has ${messages.length} messages; the limit is ${max}`);
  return { messages, batch: true };
}
