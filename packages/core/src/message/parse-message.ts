import { errorMessage } from '../errors.js';
import { codePointsAtMost, utcTimestamp } from '../anchoring/document-members.js';
import { MAX_ENTRY_BYTES } from '../entry/index.js';
import { DIGEST_PATTERN } from '../federation/registry-set.js';
import { compareUtcTimestamps } from '../federation/timestamp.js';
import { isJsonObject } from '../jcs/index.js';
import { integerIn, refuse, stringMatching, type JsonObject } from '../namespace/json-members.js';
import {
  MAX_MESSAGE_PARAMETERS_DEPTH,
  MAX_MESSAGE_PROOF_LENGTH,
  MESSAGE_FORMAT,
  MESSAGE_OPERATION_PATTERN,
  MESSAGE_PROOF_PREFIX,
  type MessagePayload,
  type NamespaceMessage,
} from './message.js';
import { messageEntryBytes } from './message-entry.js';
import { exactObject, messageAction, messageEndpoint } from './message-members.js';

const E = 'MESSAGE_MALFORMED' as const;
const MEMBERS = ['format', 'source', 'target', 'action', 'payload', 'seq', 'sent_at', 'expires_at', 'in_reply_to'];
const PAYLOAD_MEMBERS = ['operation', 'parameters', 'proof'];

function parameters(value: unknown): JsonObject {
  // What is inside is checked with the whole entry (parseMessage), in one canonicalization.
  if (!isJsonObject(value)) refuse(E, '/payload/parameters', 'must be a JSON object');
  return value;
}

function proofText(value: unknown): string {
  const at = '/payload/proof';
  if (
    typeof value !== 'string' ||
    !value.startsWith(MESSAGE_PROOF_PREFIX) ||
    !codePointsAtMost(value, MAX_MESSAGE_PROOF_LENGTH)
  ) {
    refuse(E, at, `must be a c2sp.org/tlog-proof@v1 text of at most ${MAX_MESSAGE_PROOF_LENGTH} characters`);
  }
  return value;
}

function payloadOf(value: unknown): MessagePayload {
  const p = exactObject(E, value, '/payload', PAYLOAD_MEMBERS, ['proof']);
  const operation = stringMatching(
    E,
    p['operation'],
    '/payload/operation',
    MESSAGE_OPERATION_PATTERN,
    `an operation name matching ${MESSAGE_OPERATION_PATTERN.source}`,
  );
  const out: MessagePayload = { operation, parameters: parameters(p['parameters']) };
  if (Object.hasOwn(p, 'proof')) out.proof = proofText(p['proof']);
  return out;
}

/**
 * Checks a namespace.message@1.0.0 (attacker-controlled: it arrives from any relay) and returns a
 * copy holding exactly its members; `payload.parameters` is the caller's object, checked, not
 * copied. Checks what the JSON Schema checks, plus what a schema cannot say: timestamps name real
 * calendar days and `expires_at` is after `sent_at`, `parameters` is JSON nested at most
 * MAX_MESSAGE_PARAMETERS_DEPTH deep, and the entry bytes (messageEntryBytes) fit MAX_ENTRY_BYTES.
 * `payload.proof`, when present, is only checked to be tlog-proof text of bounded length: whether
 * it parses and proves anything is verifyMessageProof's business. Throws MESSAGE_MALFORMED with the
 * offending member's JSON pointer.
 */
export function parseMessage(value: unknown): NamespaceMessage {
  const m = exactObject(E, value, '', MEMBERS, ['in_reply_to']);
  if (m['format'] !== MESSAGE_FORMAT) refuse(E, '/format', `must be "${MESSAGE_FORMAT}"`);
  const source = messageEndpoint(E, m['source'], '/source');
  const target = messageEndpoint(E, m['target'], '/target');
  const action = messageAction(E, m['action'], '/action');
  const payload = payloadOf(m['payload']);
  const seq = integerIn(E, m['seq'], '/seq', 1, Number.MAX_SAFE_INTEGER);
  const sent_at = utcTimestamp(E, m['sent_at'], '/sent_at');
  const expires_at = utcTimestamp(E, m['expires_at'], '/expires_at');
  if (compareUtcTimestamps(expires_at, sent_at) <= 0) refuse(E, '/expires_at', 'must be after sent_at');
  const message: NamespaceMessage = {
    format: MESSAGE_FORMAT,
    source,
    target,
    action,
    payload,
    seq,
    sent_at,
    expires_at,
  };
  if (Object.hasOwn(m, 'in_reply_to')) {
    message.in_reply_to = stringMatching(
      E,
      m['in_reply_to'],
      '/in_reply_to',
      DIGEST_PATTERN,
      'a message id (lowercase hex SHA-256)',
    );
  }
  try {
    messageEntryBytes(message);
  } catch (e) {
    // Every other member is checked and short: only the parameters can be other than JSON, too
    // deep (the entry nests them two levels down) or too large. The cause names where.
    refuse(
      E,
      '/payload/parameters',
      `must be JSON nested at most ${MAX_MESSAGE_PARAMETERS_DEPTH} levels deep, in a message entry of at most ${MAX_ENTRY_BYTES} bytes: ${errorMessage(e)}`,
    );
  }
  return message;
}
