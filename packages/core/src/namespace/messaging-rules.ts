import { RemembrancerError } from '../errors.js';
import { NODE_NAME_PATTERN } from '../federation/registry-set.js';
import {
  MESSAGE_ACTIONS,
  MESSAGE_OPERATION_PATTERN,
  type MessageAction,
  type MessageEndpoint,
} from '../message/message.js';
import { MAX_NOTE_SIGNATURES } from '../note/signed-note.js';
import { arrayOf, child, integerIn, objectWith, refuse } from './json-members.js';
import { NAMESPACE_ID_PATTERN } from './namespace-id.js';

/*
 * Which cross-namespace messages (namespace.message@1.0.0, issue 12 item 3) a namespace takes:
 * the `messaging` member of its spec, changed through governance like every rule. The receiver
 * applies these after the message's proof verified (verifyMessageProof), so they decide on
 * authenticated facts: who sent it (source node and namespace), what it asks (action, operation),
 * and how many witnesses vouched for the source checkpoint.
 */

/** The wildcard of a source pattern part and of an operation: anything. */
export const MESSAGING_ANY = '*';

/** Most `accept_from` patterns: a namespace names its peers, not the whole world one by one. */
export const MAX_MESSAGING_SOURCES = 256;
/** Most `operations`: the operations one application serves. */
export const MAX_MESSAGING_OPERATIONS = 64;
/**
 * Most `min_witnesses`: a checkpoint note carries at most MAX_NOTE_SIGNATURES signatures, one of
 * them the source log's own, so a higher requirement could never be met.
 */
export const MAX_MESSAGING_WITNESSES = MAX_NOTE_SIGNATURES - 1;

export interface MessagingRules {
  /** Which sources may send here: "node/namespace" patterns; either part may be "*" (any). Empty: accept no messages (the default). */
  accept_from: string[];
  /** Actions accepted (a non-empty subset of MESSAGE_ACTIONS, in that order). Default: all three. */
  actions: MessageAction[];
  /** Operations accepted: names matching MESSAGE_OPERATION_PATTERN, or "*" for any. Default ["*"]. */
  operations: string[];
  /** Distinct federation witnesses (other than the source node) that must have cosigned the source checkpoint. Default 0. */
  min_witnesses: number;
}

/** What a namespace takes when its rules say nothing: no messages (a namespace opts in to being written to by others). */
export function defaultMessagingRules(): MessagingRules {
  return { accept_from: [], actions: [...MESSAGE_ACTIONS], operations: [MESSAGING_ANY], min_witnesses: 0 };
}

const E = 'POLICY_INVALID' as const;

/** `<node>/<namespace>`, each part either `*` or a node name / namespace id: true iff `value` is one. */
function isSourcePattern(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return false;
  const node = value.slice(0, slash);
  const namespace = value.slice(slash + 1);
  return (
    (node === MESSAGING_ANY || NODE_NAME_PATTERN.test(node)) &&
    (namespace === MESSAGING_ANY || NAMESPACE_ID_PATTERN.test(namespace))
  );
}

/** Refuses the second occurrence of any item, at its own pointer. */
function refuseDuplicates(items: readonly string[], pointer: string, what: string): void {
  items.forEach((item, i) => {
    if (items.indexOf(item) !== i) refuse(E, child(pointer, i), `${what} ${item} is listed twice`);
  });
}

function sourcePatterns(value: unknown, pointer: string): string[] {
  const patterns = arrayOf(E, value, pointer, MAX_MESSAGING_SOURCES, (v, p) => {
    if (typeof v !== 'string' || !isSourcePattern(v)) {
      refuse(E, p, 'must be a source pattern <node>/<namespace>, either part * (any), e.g. beta.vaultmesh.local/dao:x');
    }
    return v;
  });
  refuseDuplicates(patterns, pointer, 'source pattern');
  return patterns;
}

function actions(value: unknown, pointer: string): MessageAction[] {
  const given = arrayOf(E, value, pointer, MESSAGE_ACTIONS.length, (v, p) => {
    if (!(MESSAGE_ACTIONS as readonly unknown[]).includes(v)) {
      refuse(E, p, `must be one of ${MESSAGE_ACTIONS.map((a) => `"${a}"`).join(', ')}`);
    }
    return v as MessageAction;
  });
  refuseDuplicates(given, pointer, 'action');
  // An empty list would be a second, quieter way to refuse everything: accept_from [] is the one.
  if (given.length === 0)
    refuse(E, pointer, 'must name at least one action; to accept no messages, leave accept_from empty');
  // One order for the same set, so equal rules are equal bytes in governance documents.
  return MESSAGE_ACTIONS.filter((a) => given.includes(a));
}

function operations(value: unknown, pointer: string): string[] {
  const given = arrayOf(E, value, pointer, MAX_MESSAGING_OPERATIONS, (v, p) => {
    if (typeof v !== 'string' || (v !== MESSAGING_ANY && !MESSAGE_OPERATION_PATTERN.test(v))) {
      refuse(E, p, 'must be * (any) or an operation name (lowercase letter, then a-z 0-9 . _ -, at most 64)');
    }
    return v;
  });
  refuseDuplicates(given, pointer, 'operation');
  if (given.length === 0) {
    refuse(E, pointer, 'must name at least one operation or *; to accept no messages, leave accept_from empty');
  }
  return given;
}

/**
 * Checks a namespace's `messaging` member (attacker-controlled: from operators over HTTP and from
 * the governance log) and returns it complete: absent members take their defaults, as in
 * witness_policy; null is an error. Unknown members, duplicates and out-of-bounds values are
 * refused with POLICY_INVALID and the JSON pointer of the offending member (under `pointer`).
 * `actions` comes back in MESSAGE_ACTIONS order; the other lists keep their order.
 */
export function parseMessagingRules(value: unknown, pointer: string): MessagingRules {
  const o = objectWith(E, value, pointer, ['accept_from', 'actions', 'operations', 'min_witnesses']);
  const defaults = defaultMessagingRules();
  // Absent (or undefined) takes the default; null is an error, so `=== undefined`, never `??`.
  const member = <K extends keyof MessagingRules>(k: K): unknown => (o[k] === undefined ? defaults[k] : o[k]);
  return {
    accept_from: sourcePatterns(member('accept_from'), child(pointer, 'accept_from')),
    actions: actions(member('actions'), child(pointer, 'actions')),
    operations: operations(member('operations'), child(pointer, 'operations')),
    min_witnesses: integerIn(E, member('min_witnesses'), child(pointer, 'min_witnesses'), 0, MAX_MESSAGING_WITNESSES),
  };
}

function patternMatches(pattern: string, source: MessageEndpoint): boolean {
  const slash = pattern.indexOf('/');
  const node = pattern.slice(0, slash);
  const namespace = pattern.slice(slash + 1);
  return (
    (node === MESSAGING_ANY || node === source.node) && (namespace === MESSAGING_ANY || namespace === source.namespace)
  );
}

/** True iff `accept_from` has a pattern matching the source endpoint. */
export function acceptsSource(rules: MessagingRules, source: MessageEndpoint): boolean {
  return rules.accept_from.some((p) => patternMatches(p, source));
}

export interface CheckMessageAcceptedOptions {
  /**
   * The message answers a query this namespace sent to that very source (the caller checked
   * `in_reply_to` against its own sent queries): asking is consent to hear the answer, so
   * `accept_from` is not consulted. Actions and operations still are.
   */
  replyToOwnQuery?: boolean;
}

/** What checkMessageAccepted reads of a message: its authenticated source and what it asks. */
export interface MessageToAccept {
  source: MessageEndpoint;
  action: MessageAction;
  payload: { operation: string };
}

/**
 * Throws MESSAGE_NOT_ACCEPTED unless the rules take this message, checked in the order source
 * (accept_from), action (actions), operation (operations); the message names the rule that refused
 * and the error's pointer the message member it refused (`/source`, `/action`,
 * `/payload/operation`). `min_witnesses` is not checked here: it is what the caller passes to
 * verifyMessageProof as its witness quorum.
 */
export function checkMessageAccepted(
  rules: MessagingRules,
  message: MessageToAccept,
  options: CheckMessageAcceptedOptions = {},
): void {
  const { source, action } = message;
  const operation = message.payload.operation;
  if (options.replyToOwnQuery !== true && !acceptsSource(rules, source)) {
    const from = `${source.node}/${source.namespace}`;
    const why =
      rules.accept_from.length === 0
        ? 'messaging.accept_from is empty: the namespace accepts no messages'
        : `no pattern of messaging.accept_from matches ${from}`;
    throw new RemembrancerError('MESSAGE_NOT_ACCEPTED', `messages from ${from} are not accepted: ${why}`, {
      pointer: '/source',
    });
  }
  if (!rules.actions.includes(action)) {
    throw new RemembrancerError(
      'MESSAGE_NOT_ACCEPTED',
      `action ${action} is not accepted: messaging.actions allows ${rules.actions.join(', ')}`,
      { pointer: '/action' },
    );
  }
  if (!rules.operations.includes(MESSAGING_ANY) && !rules.operations.includes(operation)) {
    throw new RemembrancerError(
      'MESSAGE_NOT_ACCEPTED',
      `operation ${operation} is not accepted: messaging.operations allows ${rules.operations.join(', ')}`,
      { pointer: '/payload/operation' },
    );
  }
}
