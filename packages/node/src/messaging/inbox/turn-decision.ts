import {
  RemembrancerError,
  checkMessageAccepted,
  documentSignatures,
  isRemembrancerError,
  refuseNodeBuiltFormat,
  type ErrorCode,
  type NamespaceMessage,
} from '@vaultmesh/core';
import { entryToBytes } from '../../entries/entry-bytes.js';
import type { NamespaceRules } from '../../namespaces/namespace-directory.js';
import type { SchemaRegistry } from '../../namespaces/schema-registry.js';
import type { WriterAuthorization } from '../../namespaces/writer-authorization.js';

/** The built-in operation of `invoke` (issue 12, item 5): append `parameters` as an entry of the target. */
export const RECORD_OPERATION = 'record';

/** Whether the message runs the built-in `record` operation. */
export function isRecord(message: Pick<NamespaceMessage, 'action' | 'payload'>): boolean {
  return message.action === 'invoke' && message.payload.operation === RECORD_OPERATION;
}

/** What becomes of a proven message when its stream reaches its seq. */
export type TurnDecision =
  | { apply: true; /** invoke/record: the entry bytes of `parameters`. */ record?: Uint8Array }
  | { apply: false; code: ErrorCode; message: string };

export interface TurnRules {
  /** The target namespace's rules in force now. */
  rules: NamespaceRules;
  schemas: SchemaRegistry;
  auth: WriterAuthorization;
  nowMs: number;
}

/** A UTC_TIMESTAMP_PATTERN time as fixed-width text (nanoseconds spelled out), so text order is time order. */
function sortable(timestamp: string): string {
  const body = timestamp.slice(0, -1); // without the Z
  const dot = body.indexOf('.');
  const seconds = dot < 0 ? body : body.slice(0, dot);
  const fraction = dot < 0 ? '' : body.slice(dot + 1);
  return `${seconds}.${fraction.padEnd(9, '0')}`;
}

/** True iff `nowMs` is after the message's `expires_at` (the window includes expires_at itself, as verifyMessageProof's). */
export function expiredAt(message: Pick<NamespaceMessage, 'expires_at'>, nowMs: number): boolean {
  return sortable(new Date(nowMs).toISOString()) > sortable(message.expires_at);
}

/**
 * The target's rules applied to a message whose proof verified and whose turn in its stream came:
 * still within its window, an action and operation the namespace accepts (its source was checked
 * on arrival; a reply to a query of this namespace needs no accept_from), and for `record` an
 * entry the namespace would store — within max_entry_bytes, allowed by its schema policy, and any
 * writer signatures it carries valid, as for every stored entry. A refusal here is final for the
 * message, and the stream goes on past it: a message the target can never take must not hold up
 * every later one of its stream. Errors that are not refusals (a storage fault) are thrown.
 */
export function decideAtTurn(message: NamespaceMessage, replyLinked: boolean, ctx: TurnRules): TurnDecision {
  try {
    if (expiredAt(message, ctx.nowMs)) {
      throw new RemembrancerError(
        'MESSAGE_EXPIRED',
        `the message expired at ${message.expires_at}, before its turn in its stream came`,
      );
    }
    const { spec } = ctx.rules;
    checkMessageAccepted(spec.messaging, message, { replyToOwnQuery: replyLinked });
    if (!isRecord(message)) return { apply: true };
    const entry = message.payload.parameters;
    refuseNodeBuiltFormat(entry);
    const bytes = entryToBytes(entry);
    if (bytes.length > spec.limits.max_entry_bytes) {
      throw new RemembrancerError(
        'ENTRY_TOO_LARGE',
        `the record entry is ${bytes.length} bytes of canonical JSON; ${ctx.rules.id} accepts at most ${spec.limits.max_entry_bytes}`,
      );
    }
    ctx.schemas.validateEntry(entry, spec.schema_policy.allow);
    // A stored entry never names a writer who did not sign it; without signatures, the proven
    // message and the namespace's messaging rules are its authorization.
    if (documentSignatures(entry, 'SIGNATURE_INVALID') !== undefined)
      ctx.auth.authorizeEntry(ctx.rules, undefined, entry);
    return { apply: true, record: bytes };
  } catch (e) {
    if (!isRemembrancerError(e) || e.code === 'STORAGE_FAILURE' || e.code === 'INTERNAL') throw e;
    return { apply: false, code: e.code, message: e.message };
  }
}
