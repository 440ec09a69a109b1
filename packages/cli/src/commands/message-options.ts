import {
  DIGEST_PATTERN,
  MESSAGE_ACTIONS,
  MESSAGE_OPERATION_PATTERN,
  NAMESPACE_ID_PATTERN,
  NODE_NAME_PATTERN,
  errorMessage,
  isJsonObject,
  isUtcTimestamp,
  parseJsonStrict,
  type JsonObject,
  type MessageAction,
  type MessageEndpoint,
} from '@vaultmesh/core';
import { UsageError } from '../output.js';

/*
 * The arguments of `message send|status|inbox`, checked before anything is sent: every mistake is
 * a UsageError (exit 2) naming the flag, so the node is asked only well-formed questions.
 */

export function namespaceId(flag: string, value: string): string {
  if (!NAMESPACE_ID_PATTERN.test(value))
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a namespace id such as dao:vaultmesh`);
  return value;
}

/** `--to NODE/NS`: a node name and a namespace id (neither can contain a slash). */
export function messageTarget(value: string): MessageEndpoint {
  const slash = value.indexOf('/');
  const node = value.slice(0, slash);
  const namespace = value.slice(slash + 1);
  if (slash < 0 || !NODE_NAME_PATTERN.test(node) || !NAMESPACE_ID_PATTERN.test(namespace)) {
    throw new UsageError(
      `--to ${JSON.stringify(value)} must be NODE/NAMESPACE, e.g. alpha.vaultmesh.local/dao:vaultmesh`,
    );
  }
  return { node, namespace };
}

export function messageAction(value: string): MessageAction {
  if (!(MESSAGE_ACTIONS as readonly string[]).includes(value))
    throw new UsageError(`--action must be one of ${MESSAGE_ACTIONS.join(', ')}, not ${JSON.stringify(value)}`);
  return value as MessageAction;
}

export function messageOperation(value: string): string {
  if (!MESSAGE_OPERATION_PATTERN.test(value))
    throw new UsageError(
      `--operation ${JSON.stringify(value)} must match ${MESSAGE_OPERATION_PATTERN.source} (e.g. record)`,
    );
  return value;
}

export function messageIdArg(flag: string, value: string): string {
  if (!DIGEST_PATTERN.test(value))
    throw new UsageError(`${flag} ${JSON.stringify(value)} is not a message id (64 lowercase hex digits)`);
  return value;
}

/** `--params` text (a file's or stdin's): a JSON object; the node checks its size and depth. */
export function messageParameters(text: string, source: string): JsonObject {
  let value: unknown;
  try {
    value = parseJsonStrict(text);
  } catch (e) {
    throw new UsageError(`--params ${source} is not JSON: ${errorMessage(e)}`);
  }
  if (!isJsonObject(value)) throw new UsageError(`--params ${source} must hold a JSON object`);
  return value;
}

const DURATION = /^([1-9][0-9]{0,8})([smhd])$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** `<n>s|m|h|d`, the spelling of durations elsewhere in the project (cadence `every`). */
export function durationMs(flag: string, value: string): number {
  const m = DURATION.exec(value);
  if (!m) throw new UsageError(`${flag} ${JSON.stringify(value)} must be a duration such as 90s, 15m, 2h or 7d`);
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

/**
 * `expires_at` of a send request from `--expires-in` or `--expires-at` (at most one), or undefined:
 * the node then applies its default. `--expires-in` counts from `nowMs`, this machine's clock.
 */
export function messageExpiry(opts: { expiresIn?: string; expiresAt?: string }, nowMs: number): string | undefined {
  if (opts.expiresIn !== undefined && opts.expiresAt !== undefined)
    throw new UsageError('give --expires-in or --expires-at, not both');
  if (opts.expiresAt !== undefined) {
    if (!isUtcTimestamp(opts.expiresAt))
      throw new UsageError(
        `--expires-at ${JSON.stringify(opts.expiresAt)} must be an RFC 3339 UTC time such as 2030-01-01T00:00:00Z`,
      );
    return opts.expiresAt;
  }
  if (opts.expiresIn === undefined) return undefined;
  const at = new Date(nowMs + durationMs('--expires-in', opts.expiresIn));
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() > 9999)
    throw new UsageError(`--expires-in ${opts.expiresIn} reaches beyond the year 9999`);
  return at.toISOString();
}

/** The states `send --wait` can wait for: sealed (its proof exists) or delivered (the target recorded it). */
export const WAITABLE_STATES = ['sealed', 'delivered'] as const;
export type WaitableState = (typeof WAITABLE_STATES)[number];

export function waitState(value: string): WaitableState {
  if (!(WAITABLE_STATES as readonly string[]).includes(value))
    throw new UsageError(`--wait must be ${WAITABLE_STATES.join(' or ')}, not ${JSON.stringify(value)}`);
  return value as WaitableState;
}

/** A whole number of seconds from `min` to `max`, in milliseconds. */
export function secondsMs(flag: string, value: string, min: number, max: number): number {
  if (!/^(0|[1-9][0-9]{0,6})$/.test(value) || Number(value) < min || Number(value) > max)
    throw new UsageError(
      `${flag} must be a whole number of seconds from ${min} to ${max}, not ${JSON.stringify(value)}`,
    );
  return Number(value) * 1000;
}

/** A non-negative integer flag (cursors, limits) within `max`. */
export function wholeNumber(flag: string, value: string, min: number, max: number): number {
  if (
    !/^(0|[1-9][0-9]*)$/.test(value) ||
    !Number.isSafeInteger(Number(value)) ||
    Number(value) < min ||
    Number(value) > max
  )
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max}, not ${JSON.stringify(value)}`);
  return Number(value);
}

/** A sent message as the commands name it: its source namespace and its id. */
export interface MessageRef {
  namespace: string;
  id: string;
}

/**
 * `message status`'s argument: `NS/ID` (what `message send` prints), or a bare ID with `--ns NS`.
 * Namespace ids cannot contain a slash, so the first slash separates the two.
 */
export function messageRef(arg: string, ns: string | undefined): MessageRef {
  const slash = arg.indexOf('/');
  if (slash < 0) {
    if (ns === undefined)
      throw new UsageError('name the message as NS/ID (as `message send` prints it), or give --ns NS with the ID');
    return { namespace: namespaceId('--ns', ns), id: messageIdArg('message id', arg) };
  }
  const namespace = namespaceId('message', arg.slice(0, slash));
  if (ns !== undefined && ns !== namespace)
    throw new UsageError(`--ns ${ns} differs from the namespace ${namespace} in ${arg}`);
  return { namespace, id: messageIdArg('message id', arg.slice(slash + 1)) };
}

/** How `message send` and `message status` print a message: `NS/ID`, which `message status` takes back. */
export function formatMessageRef(ref: MessageRef): string {
  return `${ref.namespace}/${ref.id}`;
}
