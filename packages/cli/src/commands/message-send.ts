import { readFileSync } from 'node:fs';
import { RemembrancerError, errorMessage, type ErrorCode, type JsonObject, type MessageAction } from '@vaultmesh/core';
import type { MessageStatusView, SentMessage } from '@vaultmesh/node';
import type { ApiClient } from '../client/api-client.js';
import { clientFrom, type ConnectionOptions } from '../client/connection.js';
import { EXIT_FAILURE, UsageError, printResult } from '../output.js';
import {
  formatMessageRef,
  messageAction,
  messageExpiry,
  messageIdArg,
  messageOperation,
  messageParameters,
  messageTarget,
  namespaceId,
  secondsMs,
  waitState,
  type WaitableState,
} from './message-options.js';
import { statusPath } from './message-paths.js';

export interface SendOptions extends ConnectionOptions {
  from: string;
  to: string;
  action: string;
  operation: string;
  params?: string;
  expiresIn?: string;
  expiresAt?: string;
  inReplyTo?: string;
  wait?: string;
  timeout: string;
  json?: boolean;
}

/** The body of POST /v1/ns/{src}/messages (docs/messaging.md). */
export interface SendRequest {
  target: { node: string; namespace: string };
  action: MessageAction;
  payload: { operation: string; parameters: JsonObject };
  expires_at?: string;
  in_reply_to?: string;
}

/** The source namespace and request of `message send`, every flag checked (UsageError otherwise). */
export function sendRequestFrom(
  opts: Omit<SendOptions, 'timeout' | 'wait'>,
  paramsText: string | undefined,
  nowMs: number,
): { namespace: string; request: SendRequest } {
  const namespace = namespaceId('--from', opts.from);
  const expiresAt = messageExpiry(opts, nowMs);
  const request: SendRequest = {
    target: messageTarget(opts.to),
    action: messageAction(opts.action),
    payload: {
      operation: messageOperation(opts.operation),
      parameters: paramsText === undefined ? {} : messageParameters(paramsText, opts.params ?? '-'),
    },
    ...(expiresAt === undefined ? {} : { expires_at: expiresAt }),
    ...(opts.inReplyTo === undefined ? {} : { in_reply_to: messageIdArg('--in-reply-to', opts.inReplyTo) }),
  };
  return { namespace, request };
}

function readParams(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path === '-' ? 0 : path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read --params ${path}: ${errorMessage(e)}`);
  }
}

/** Whether `state` is `wanted` or past it; refused and expired are past every state but never reach one. */
export function hasReached(state: string, wanted: WaitableState): boolean {
  return wanted === 'sealed' ? state === 'sealed' || state === 'delivered' : state === 'delivered';
}

/**
 * Why a wait ended without the wanted state: the target's refusal code, MESSAGE_EXPIRED, or at the
 * deadline the last attempt's error (e.g. PEER_UNREACHABLE), else NOT_YET_SEALED for a message no
 * sealed checkpoint covers yet and REQUEST_TIMEOUT for one still being delivered.
 */
export function waitFailure(view: MessageStatusView, wanted: WaitableState, timedOut: boolean): RemembrancerError {
  if (view.state === 'refused') {
    const code: ErrorCode = view.error?.code ?? 'FORBIDDEN';
    return new RemembrancerError(
      code,
      `refused by ${view.target.node}/${view.target.namespace}: ${view.error?.message ?? code}`,
    );
  }
  if (view.state === 'expired')
    return new RemembrancerError('MESSAGE_EXPIRED', `expired at ${view.expires_at} before it was delivered`);
  const last = view.error === undefined ? '' : `; last attempt: ${view.error.message} (${view.error.code})`;
  const code: ErrorCode = view.error?.code ?? (view.state === 'queued' ? 'NOT_YET_SEALED' : 'REQUEST_TIMEOUT');
  return new RemembrancerError(
    code,
    `not ${wanted} ${timedOut ? 'within the timeout' : 'yet'}: ${view.state} after ${view.attempts} attempt(s)${last}`,
  );
}

const POLL_FIRST_MS = 100;
const POLL_MAX_MS = 1_000;

/** Polls the message's status until it reaches `wanted`, is refused or expired, or `timeoutMs` passes. */
export async function waitForState(
  client: ApiClient,
  namespace: string,
  id: string,
  wanted: WaitableState,
  timeoutMs: number,
): Promise<{ view: MessageStatusView; failure?: RemembrancerError }> {
  const deadline = Date.now() + timeoutMs;
  let pause = POLL_FIRST_MS;
  for (;;) {
    const view = await client.json<MessageStatusView>('GET', statusPath(client, namespace, id));
    if (hasReached(view.state, wanted)) return { view };
    if (view.state === 'refused' || view.state === 'expired')
      return { view, failure: waitFailure(view, wanted, false) };
    const left = deadline - Date.now();
    if (left <= 0) return { view, failure: waitFailure(view, wanted, true) };
    await new Promise((r) => setTimeout(r, Math.min(left, pause)));
    pause = Math.min(POLL_MAX_MS, pause * 2);
  }
}

function sentLine(namespace: string, sent: SentMessage): string {
  return `sent ${formatMessageRef({ namespace, id: sent.id })}\n  entry ${sent.index} of ${namespace}, seq ${sent.seq}, ${sent.state}`;
}

function finalLine(view: MessageStatusView): string {
  if (view.state === 'delivered' && view.delivery)
    return `delivered: entry ${view.delivery.index} of ${view.target.namespace} on ${view.target.node} (after ${view.attempts} attempt(s))`;
  return `${view.state}${view.next_attempt_at ? `, next attempt at ${view.next_attempt_at}` : ''}`;
}

export async function sendMessage(opts: SendOptions): Promise<void> {
  const wanted = opts.wait === undefined ? undefined : waitState(opts.wait);
  const timeoutMs = secondsMs('--timeout', opts.timeout, 1, 3600);
  const { namespace, request } = sendRequestFrom(opts, readParams(opts.params), Date.now());
  const client = clientFrom(opts);
  const sent = await client.json<SentMessage>('POST', client.nsPath(namespace, '/messages'), request);
  if (wanted === undefined) {
    printResult(opts, { namespace, ...sent }, () => sentLine(namespace, sent));
    return;
  }
  // People see the id at once: it names the message even when the wait fails.
  if (!opts.json) process.stdout.write(sentLine(namespace, sent) + '\n');
  const { view, failure } = await waitForState(client, namespace, sent.id, wanted, timeoutMs);
  if (opts.json) {
    process.stdout.write(
      JSON.stringify(
        {
          namespace,
          ...sent,
          state: view.state,
          status: view,
          ...(failure ? { error: { code: failure.code, message: failure.message } } : {}),
        },
        null,
        2,
      ) + '\n',
    );
  } else if (failure) {
    process.stderr.write(`error: ${failure.message} (${failure.code})\n`);
  } else {
    process.stdout.write(finalLine(view) + '\n');
  }
  if (failure) process.exitCode = EXIT_FAILURE;
}
