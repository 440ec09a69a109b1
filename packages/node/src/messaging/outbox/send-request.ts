import {
  RemembrancerError,
  buildMessage,
  isJsonObject,
  isRemembrancerError,
  isUtcTimestamp,
  pointerToken,
  type JsonObject,
  type MessageAction,
  type MessageEndpoint,
  type NamespaceMessage,
} from '@vaultmesh/core';
import { timestampMs } from './timestamp-ms.js';

/*
 * What a writer asks for in POST /v1/ns/{src}/messages (issue 12, item 2): the target, the action
 * and the payload, optionally when it expires and which message it answers. The node sets the
 * rest — source, seq, sent_at, the default expiry — so a writer cannot speak for another
 * namespace, reuse a seq or send a message already expired.
 */

/** Most messages in one send request (`{"messages": [...]}`), appended all or none. */
export const MAX_SEND_BATCH = 1000;
/** How long a message is valid when the request does not say: a day. */
export const DEFAULT_MESSAGE_TTL_MS = 24 * 60 * 60 * 1000;
/** The latest expiry a request may ask for, after sent_at: 30 days (receivers hold what arrives early). */
export const MAX_MESSAGE_TTL_MS = 30 * 24 * 60 * 60 * 1000;

const E = 'MESSAGE_MALFORMED' as const;
const MEMBERS = ['target', 'action', 'payload', 'expires_at', 'in_reply_to'];
const REQUIRED = ['target', 'action', 'payload'];
const PAYLOAD_MEMBERS = ['operation', 'parameters'];
/** Stands in for the seq until the append queue assigns one: the longest number, so the size checked is an upper bound. */
const PLACEHOLDER_SEQ = Number.MAX_SAFE_INTEGER;

export interface DraftContext {
  /** This node and the sending namespace. */
  source: MessageEndpoint;
  /** The node's clock at the request, ms: the message's sent_at. */
  sentAtMs: number;
  /** Default lifetime, ms (DEFAULT_MESSAGE_TTL_MS). */
  ttlMs?: number;
  /** Longest lifetime a request may ask for, ms (MAX_MESSAGE_TTL_MS). */
  maxTtlMs?: number;
  /** Where the request sits in the body (`/messages/3` in a batch, '' alone): prefixes every pointer. */
  pointer?: string;
}

function refuse(pointer: string, why: string): never {
  throw new RemembrancerError(E, `${pointer || '/'}: ${why}`, { pointer });
}

/** A MESSAGE_MALFORMED about the message document, re-aimed at the request: pointer and message prefixed. */
function underPointer(e: unknown, prefix: string): unknown {
  if (prefix === '' || !isRemembrancerError(e)) return e;
  const inner = e.pointer ?? '';
  const head = `${inner || '/'}: `;
  const why = e.message.startsWith(head) ? e.message.slice(head.length) : e.message;
  return new RemembrancerError(e.code, `${prefix}${inner}: ${why}`, { cause: e, pointer: `${prefix}${inner}` });
}

function exactMembers(
  value: unknown,
  pointer: string,
  members: readonly string[],
  required: readonly string[],
): JsonObject {
  if (!isJsonObject(value)) refuse(pointer, 'must be a JSON object');
  for (const k of Object.keys(value)) {
    if (!members.includes(k)) {
      refuse(
        `${pointer}/${pointerToken(k)}`,
        `unknown member; a send request has ${members.join(', ')} (the node sets source, seq, sent_at and the proof)`,
      );
    }
  }
  for (const k of required) if (!Object.hasOwn(value, k)) refuse(`${pointer}/${k}`, 'is required');
  return value;
}

/**
 * Checks one send request (attacker-controlled: a writer's JSON) and builds the message it asks
 * for, still without its seq (a placeholder, the largest, so the entry size checked here is an
 * upper bound and the message cannot grow past the limits once numbered). Throws
 * MESSAGE_MALFORMED — and only that — with the offending member's pointer in the request:
 * unknown or missing members, a proof (the node adds it), a target that is the source itself, an
 * expiry not after sent_at or more than maxTtlMs after it, and whatever buildMessage refuses
 * (endpoints, action, operation, parameters and the entry's size).
 */
export function draftMessage(request: unknown, ctx: DraftContext): NamespaceMessage {
  const at = ctx.pointer ?? '';
  const r = exactMembers(request, at, MEMBERS, REQUIRED);
  const payload = exactMembers(r['payload'], `${at}/payload`, PAYLOAD_MEMBERS, PAYLOAD_MEMBERS);
  const sentAt = new Date(ctx.sentAtMs);
  if (Number.isNaN(sentAt.getTime())) throw new RemembrancerError('INVALID_ARGUMENT', 'the clock gave no valid time');
  let expiresAt: string;
  if (Object.hasOwn(r, 'expires_at')) {
    const given = r['expires_at'];
    if (!isUtcTimestamp(given))
      refuse(`${at}/expires_at`, 'must be an RFC 3339 UTC timestamp such as 2026-01-01T00:00:00Z');
    const maxTtl = ctx.maxTtlMs ?? MAX_MESSAGE_TTL_MS;
    if (timestampMs(given) - ctx.sentAtMs > maxTtl) {
      refuse(`${at}/expires_at`, `must be at most ${maxTtl / 3_600_000} hours after sent_at (${sentAt.toISOString()})`);
    }
    expiresAt = given;
  } else {
    expiresAt = new Date(ctx.sentAtMs + (ctx.ttlMs ?? DEFAULT_MESSAGE_TTL_MS)).toISOString();
  }
  const target = r['target'] as MessageEndpoint;
  if (isJsonObject(target) && target.node === ctx.source.node && target.namespace === ctx.source.namespace) {
    refuse(`${at}/target`, `is the sending namespace itself (${ctx.source.node}/${ctx.source.namespace})`);
  }
  try {
    return buildMessage({
      source: ctx.source,
      // Checked by buildMessage (its parseMessage), with the same pointers as in the request.
      target,
      action: r['action'] as MessageAction,
      operation: payload['operation'] as string,
      parameters: payload['parameters'] as JsonObject,
      seq: PLACEHOLDER_SEQ,
      sentAt: sentAt.toISOString(),
      expiresAt,
      ...(Object.hasOwn(r, 'in_reply_to') ? { inReplyTo: r['in_reply_to'] as string } : {}),
    });
  } catch (e) {
    throw underPointer(e, at);
  }
}

/** The drafted message numbered: the seq is the only member that changes, and its size was checked as the largest. */
export function numbered(draft: NamespaceMessage, seq: number): NamespaceMessage {
  return { ...draft, seq };
}
