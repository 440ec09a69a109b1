import type { ErrorCode } from '../errors.js';
import { requireMembers } from '../anchoring/document-members.js';
import { NODE_NAME_PATTERN } from '../federation/registry-set.js';
import { NAMESPACE_ID_PATTERN } from '../namespace/namespace-id.js';
import { child, objectWith, refuse, stringMatching, type JsonObject } from '../namespace/json-members.js';
import { MESSAGE_ACTIONS, type MessageAction, type MessageEndpoint } from './message.js';

/*
 * Member checks the message and its delivery record share: each failure names the member by its
 * JSON pointer under the document's own error code, and each is the check its JSON Schema states.
 */

/** An object with exactly `members`, those in `optional` possibly absent: unknown members are refused. */
export function exactObject(
  code: ErrorCode,
  value: unknown,
  pointer: string,
  members: readonly string[],
  optional: readonly string[] = [],
): JsonObject {
  const o = objectWith(code, value, pointer, members);
  const required = members.filter((m) => !optional.includes(m));
  return requireMembers(code, o, pointer, required);
}

/** `{ node, namespace }`: a node name and a namespace id. */
export function messageEndpoint(code: ErrorCode, value: unknown, pointer: string): MessageEndpoint {
  const o = exactObject(code, value, pointer, ['node', 'namespace']);
  return {
    node: stringMatching(code, o['node'], child(pointer, 'node'), NODE_NAME_PATTERN, 'a node name'),
    namespace: stringMatching(
      code,
      o['namespace'],
      child(pointer, 'namespace'),
      NAMESPACE_ID_PATTERN,
      'a namespace id such as dao:vaultmesh',
    ),
  };
}

/** One of MESSAGE_ACTIONS. */
export function messageAction(code: ErrorCode, value: unknown, pointer: string): MessageAction {
  if (typeof value !== 'string' || !(MESSAGE_ACTIONS as readonly string[]).includes(value)) {
    refuse(code, pointer, `must be one of ${MESSAGE_ACTIONS.map((a) => `"${a}"`).join(', ')}`);
  }
  return value as MessageAction;
}

/** The checkpoint origin of a namespace's log: `<node name>/<namespace id>` (DESIGN.md, Checkpoint). */
export function endpointOrigin(endpoint: MessageEndpoint): string {
  return `${endpoint.node}/${endpoint.namespace}`;
}

/**
 * A builder's time input as a document spells it: a Date becomes its toISOString (exactly the
 * UTC_TIMESTAMP_PATTERN form for years 0 to 9999; other years get a sign and six digits, which the
 * parsers refuse); a string is passed on for the parser to check.
 */
export function timestampOf(code: ErrorCode, value: Date | string, pointer: string): unknown {
  if (!(value instanceof Date)) return value;
  if (Number.isNaN(value.getTime())) refuse(code, pointer, 'must be a valid Date or RFC 3339 UTC timestamp');
  return value.toISOString();
}
