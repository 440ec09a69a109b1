import { MAX_ENTRY_DEPTH } from '../entry/index.js';
import type { JsonObject } from '../namespace/json-members.js';
import { TLOG_PROOF_HEADER } from '../tlog-proof/tlog-proof.js';

/*
 * `namespace.message@1.0.0` (schemas/namespace.message@1.0.0.json, issue 12): a message from one
 * namespace to another, on the same node or another node of the federation. It is first an entry
 * of the source namespace's log (the JCS bytes of the message without `payload.proof`), and then
 * travels with `payload.proof`, the C2SP tlog-proof of that entry (https://c2sp.org/tlog-proof),
 * so the receiver accepts it on proof alone, whoever relays it.
 */

export const MESSAGE_FORMAT = 'namespace.message@1.0.0';

/** notify: delivered, no answer; query: answered by a message with `in_reply_to`; invoke: runs an operation. */
export const MESSAGE_ACTIONS = ['invoke', 'query', 'notify'] as const;
export type MessageAction = (typeof MESSAGE_ACTIONS)[number];

/**
 * Operation names: lowercase ASCII, short, no spaces or slashes, so they can appear in paths,
 * metrics labels and namespace rules (`messaging.operations`) without escaping.
 */
export const MESSAGE_OPERATION_PATTERN = /^[a-z][a-z0-9._-]{0,63}$/;

/**
 * Nesting of `payload.parameters` (counted as MAX_JSON_DEPTH counts it): the message entry nests
 * it two levels down (message → payload → parameters), so this keeps the whole entry within
 * MAX_ENTRY_DEPTH, the bound every log applies to what it appends.
 */
export const MAX_MESSAGE_PARAMETERS_DEPTH = MAX_ENTRY_DEPTH - 2;

/**
 * Length of `payload.proof` in code points (as JSON Schema's maxLength counts). A tlog-proof is a
 * few header lines, at most 64 hashes (~3 KB) and a checkpoint note of at most 100 signature lines
 * (~40 KB with the longest key names): 64 Ki bounds it with room, and is the bound other documents
 * put on a carried note (MAX_EVIDENCE_NOTE_LENGTH).
 */
export const MAX_MESSAGE_PROOF_LENGTH = 65_536;

/** Every tlog-proof starts with its header line (https://c2sp.org/tlog-proof#format). */
export const MESSAGE_PROOF_PREFIX = TLOG_PROOF_HEADER + '\n';

/** A namespace of a node: where a message comes from or goes to. */
export interface MessageEndpoint {
  /** A federation node name (NODE_NAME_PATTERN). */
  node: string;
  /** A namespace id (NAMESPACE_ID_PATTERN). */
  namespace: string;
}

export interface MessagePayload {
  /** MESSAGE_OPERATION_PATTERN, e.g. `record`. */
  operation: string;
  /** Any JSON object, at most MAX_MESSAGE_PARAMETERS_DEPTH deep; the whole entry within MAX_ENTRY_BYTES. */
  parameters: JsonObject;
  /** c2sp.org/tlog-proof@v1 text of the message's entry in the source log: absent in the entry, present in transit. */
  proof?: string;
}

export interface NamespaceMessage {
  format: typeof MESSAGE_FORMAT;
  source: MessageEndpoint;
  target: MessageEndpoint;
  action: MessageAction;
  payload: MessagePayload;
  /** 1, 2, 3, … per stream (source namespace → target namespace), so the receiver applies them in order. */
  seq: number;
  /** RFC 3339 UTC. */
  sent_at: string;
  /** RFC 3339 UTC, after sent_at: the receiver refuses the message from then on. */
  expires_at: string;
  /** The id (messageId) of the message this one answers. */
  in_reply_to?: string;
}
