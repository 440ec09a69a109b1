import {
  acceptsSource,
  checkMessageAccepted,
  errorMessage,
  isJsonObject,
  isRemembrancerError,
  parseMessage,
  verifyMessageProof,
  type ErrorCode,
  type MessageEndpoint,
  type MessagingRules,
  type NamespaceMessage,
} from '@vaultmesh/core';
import type { NamespaceRules } from '../../namespaces/namespace-directory.js';
import type { InboxResult, ReplyLinker } from '../messaging-wire.js';
import type { MessageTrust } from './message-trust.js';

/** A message whose proof verified, for a target that takes its source: it may enter its stream. */
export interface ProvenMessage {
  message: NamespaceMessage;
  id: string;
  /** RFC 6962 leaf hash of its entry (verifyMessageProof's): what its delivery record names. */
  leafHash: Uint8Array;
  /** Its entry's index in the source log. */
  index: number;
  /** The source log's origin, `<source node>/<source namespace>`. */
  origin: string;
  /** Its `in_reply_to` names a query this namespace sent to its source. */
  replyLinked: boolean;
  /**
   * Proven, but already past `expires_at`: it still takes its place in its stream, where it is
   * refused for good when its turn comes (the stream must not wait for it forever).
   */
  expired: boolean;
}

export type Incoming = { ok: true; proven: ProvenMessage } | { ok: false; result: InboxResult };

export interface IncomingContext {
  /** This node and the target namespace: what the message's target must be. */
  target: MessageEndpoint;
  rules: NamespaceRules;
  trust: MessageTrust;
  replyLinker?: ReplyLinker;
  nowMs: number;
}

export function refusal(code: ErrorCode, message: string, messageId?: string): InboxResult {
  return {
    ...(messageId === undefined ? {} : { message_id: messageId }),
    status: 'refused',
    error: { code, message },
  };
}

/** The refusal of an error caught where only refusals are expected (anything untyped is INTERNAL). */
export function refusalOf(e: unknown, messageId?: string): InboxResult {
  return isRemembrancerError(e)
    ? refusal(e.code, e.message, messageId)
    : refusal('INTERNAL', errorMessage(e), messageId);
}

/**
 * What a target checks of one travelling message before it touches any state (attacker-controlled:
 * any relay may send anything). Never rejects; a refusal here leaves no trace:
 * - the form (MESSAGE_MALFORMED);
 * - the source: a namespace whose messaging.accept_from takes no pattern of it refuses at once,
 *   before any signature is checked (MESSAGE_NOT_ACCEPTED) — unless the message answers a query:
 *   then the proof is checked first, and only a proven reply to a query this namespace sent to
 *   that very source is taken whatever accept_from says (asking is consent to hear the answer);
 * - the proof (verifyMessageProof): the source node's log key signed the checkpoint, at least
 *   messaging.min_witnesses witnesses other than the source node cosigned it, the message is the
 *   entry the proof includes, its target is this namespace of this node, and it is within its
 *   window — each failure refused with the check's stable code. Expiry alone is different: a
 *   proven message that expired still enters its stream, to be refused there for good (see
 *   ProvenMessage.expired).
 */
export async function checkIncoming(raw: unknown, ctx: IncomingContext): Promise<Incoming> {
  const messaging = ctx.rules.spec.messaging;
  let message: NamespaceMessage;
  let asReply = false;
  if (acceptedSourceOf(raw, messaging)) {
    // The common case, a message (no reply) from a source accept_from takes: verifyMessageProof
    // parses it, once (parsing it here too cost as much as its signature checks). Parsed, it has
    // that very source; malformed, its `format` check refuses it MESSAGE_MALFORMED, as below.
    message = raw as NamespaceMessage;
  } else {
    try {
      message = parseMessage(raw);
    } catch (e) {
      return { ok: false, result: refusalOf(e) };
    }
    asReply = message.in_reply_to !== undefined && ctx.replyLinker !== undefined;
    if (!asReply && !acceptsSource(messaging, message.source))
      return { ok: false, result: notAccepted(messaging, message) };
  }

  const verification = verifyMessageProof(message, {
    ...ctx.trust.for(message.source),
    minWitnesses: messaging.min_witnesses,
    target: ctx.target,
    now: ctx.nowMs,
  });
  const id = verification.messageId;
  const failed = verification.checks.find((c) => !c.ok);
  let expired = false;
  if (failed !== undefined) {
    if (failed.name !== 'expiry' || failed.code !== 'MESSAGE_EXPIRED') {
      return { ok: false, result: refusal(failed.code ?? 'INTERNAL', `${failed.name}: ${failed.detail}`, id) };
    }
    expired = true;
  }
  // Every check up to expiry passed, so these are set.
  const proven = {
    message: verification.message!,
    id: id!,
    leafHash: verification.leafHash!,
    index: verification.index!,
  };

  let replyLinked = false;
  if (asReply) {
    try {
      replyLinked = await ctx.replyLinker!.linkReply(
        ctx.target.namespace,
        message.in_reply_to!,
        message.source,
        proven.id,
      );
    } catch (e) {
      return { ok: false, result: refusalOf(e, proven.id) };
    }
    if (!replyLinked && !acceptsSource(messaging, message.source)) {
      return { ok: false, result: notAccepted(messaging, message, proven.id) };
    }
  }
  return {
    ok: true,
    proven: {
      ...proven,
      origin: `${proven.message.source.node}/${proven.message.source.namespace}`,
      replyLinked,
      expired,
    },
  };
}

/**
 * Whether `raw` (unparsed) names, without `in_reply_to`, a source that accept_from takes: then
 * nothing is decided before its proof is checked, and it need not be parsed first.
 */
function acceptedSourceOf(raw: unknown, messaging: MessagingRules): boolean {
  if (!isJsonObject(raw) || raw['in_reply_to'] !== undefined) return false;
  const source = raw['source'];
  if (!isJsonObject(source)) return false;
  const { node, namespace } = source;
  return typeof node === 'string' && typeof namespace === 'string' && acceptsSource(messaging, { node, namespace });
}

/** checkMessageAccepted's refusal of a source accept_from does not take, in its words. */
function notAccepted(messaging: MessagingRules, message: NamespaceMessage, id?: string): InboxResult {
  try {
    checkMessageAccepted(messaging, message);
  } catch (e) {
    return refusalOf(e, id);
  }
  return refusal('MESSAGE_NOT_ACCEPTED', 'the source is not accepted', id);
}
