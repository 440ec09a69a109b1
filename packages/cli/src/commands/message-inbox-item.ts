import { RemembrancerError, errorMessage, parseJsonStrict } from '@vaultmesh/core';
import type { InboxItem } from '@vaultmesh/node';

/*
 * Inbox items as the CLI reads them from a node (a page's `items`, or an event's data). Whoever
 * answers at --url controls them: the members the CLI uses are checked before they are printed
 * or followed (a cursor that is not a number would stall `--follow`).
 */

function malformed(why: string): never {
  throw new RemembrancerError('PEER_ANSWER_MALFORMED', `the node sent an inbox item that ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks the members `message inbox` relies on; the item is passed on whole. */
export function inboxItem(value: unknown): InboxItem {
  if (!isRecord(value)) malformed('is not a JSON object');
  const { cursor, message_id, delivery } = value;
  if (typeof cursor !== 'number' || !Number.isSafeInteger(cursor) || cursor < 0)
    malformed('has no cursor (a non-negative integer)');
  if (typeof message_id !== 'string') malformed('has no message_id');
  if (!isRecord(delivery) || typeof delivery.index !== 'number') malformed('has no delivery index');
  return value as unknown as InboxItem;
}

/** An event's data: one inbox item as JSON. */
export function inboxItemFromText(text: string): InboxItem {
  let value: unknown;
  try {
    value = parseJsonStrict(text);
  } catch (e) {
    malformed(`is not JSON: ${errorMessage(e)}`);
  }
  return inboxItem(value);
}

function text(v: unknown): string {
  return typeof v === 'string' ? v : '?';
}

/** One line per item for people: cursor, id, source, action, operation, delivery index. */
export function inboxLine(item: InboxItem): string {
  const m = isRecord(item.message) ? item.message : {};
  const source = isRecord(m.source) ? `${text(m.source.node)}/${text(m.source.namespace)}` : '?';
  const operation = isRecord(m.payload) ? text(m.payload.operation) : '?';
  const reply = typeof m.in_reply_to === 'string' ? `  in reply to ${m.in_reply_to}` : '';
  return `${item.cursor}  ${item.message_id}  from ${source}  ${text(m.action)} ${operation}  delivery entry ${item.delivery.index}${reply}`;
}

/** One item as `--json` prints it: a JSON object on one line (JSON Lines). */
export function inboxJsonLine(item: InboxItem): string {
  return JSON.stringify(item);
}
