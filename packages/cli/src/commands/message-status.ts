import type { MessageStatusView } from '@vaultmesh/node';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { clientFrom, type ConnectionOptions } from '../client/connection.js';
import { EXIT_FAILURE, EXIT_OK, printResult } from '../output.js';
import { formatMessageRef, messageRef } from './message-options.js';
import { statusPath } from './message-paths.js';
import { resolveMessageTrust, type MessageTrustOptions } from './message-trust.js';
import { verificationLines, verifyMessage, type MessageVerification } from './message-verify.js';

export interface StatusOptions extends ConnectionOptions, MessageTrustOptions {
  ns?: string;
  proofs?: boolean;
  verify?: boolean;
  json?: boolean;
}

/** `message status` for people: where the message is, and what became of it. */
export function describeStatus(namespace: string, v: MessageStatusView): string {
  const lines = [
    `message ${formatMessageRef({ namespace, id: v.id })}`,
    `  route      ${v.source.node}/${v.source.namespace} → ${v.target.node}/${v.target.namespace}`,
    `  action     ${v.action} ${v.operation}, seq ${v.seq}`,
    `  sent       ${v.sent_at} as entry ${v.index} of ${v.source.namespace}; expires ${v.expires_at}`,
    `  state      ${v.state} after ${v.attempts} attempt(s)`,
  ];
  if (v.next_attempt_at !== undefined) lines.push(`  next       attempt at ${v.next_attempt_at}`);
  if (v.error !== undefined) lines.push(`  error      ${v.error.code}: ${v.error.message}`);
  if (v.delivery !== undefined)
    lines.push(
      `  delivery   entry ${v.delivery.index} of ${v.target.namespace}, accepted ${v.delivery.entry.accepted_at}${v.delivery.receipt ? '' : ' (receipt not yet)'}`,
    );
  if (v.in_reply_to !== undefined) lines.push(`  answers    ${v.in_reply_to}`);
  if (v.replies.length > 0) lines.push(`  replies    ${v.replies.join(', ')}`);
  return lines.join('\n');
}

function proofLines(v: MessageStatusView, receipt: unknown): string[] {
  return [
    '',
    'sent proof (c2sp.org/tlog-proof@v1, source log):',
    v.sent_proof === undefined ? '  (none yet: no sealed checkpoint covers the message)' : v.sent_proof.trimEnd(),
    '',
    'delivery receipt (target log):',
    receipt === undefined
      ? `  (none${v.delivery ? ' yet: no checkpoint of the target covers the delivery record' : ': not delivered'})`
      : JSON.stringify(receipt, null, 2),
  ];
}

/**
 * The delivery receipt: the status's, or — when the target namespace is on the node asked and
 * its receipt came after the delivery answer — fetched from that node now.
 */
async function deliveryReceipt(client: ApiClient, v: MessageStatusView): Promise<unknown> {
  if (v.delivery === undefined) return undefined;
  if (v.delivery.receipt !== undefined) return v.delivery.receipt;
  const node = await client.json<{ name?: unknown }>('GET', '/v1/node');
  if (node.name !== v.target.node) return undefined;
  try {
    return await client.json('GET', client.nsPath(v.target.namespace, `/receipt/${v.delivery.index}`));
  } catch (e) {
    if (e instanceof ApiError && e.code === 'NOT_YET_IN_CHECKPOINT') return undefined;
    throw e;
  }
}

async function sourceEntry(client: ApiClient, namespace: string, index: number): Promise<unknown> {
  return (await client.json<{ entry: unknown }>('GET', client.nsPath(namespace, `/entries/${index}`))).entry;
}

export async function messageStatus(arg: string, opts: StatusOptions): Promise<void> {
  const ref = messageRef(arg, opts.ns);
  const client = clientFrom(opts);
  const view = await client.json<MessageStatusView>('GET', statusPath(client, ref.namespace, ref.id));
  const receipt = opts.proofs || opts.verify ? await deliveryReceipt(client, view) : view.delivery?.receipt;
  let verification: MessageVerification | undefined;
  if (opts.verify) {
    const trust = await resolveMessageTrust(client, opts);
    verification = verifyMessage(view, await sourceEntry(client, ref.namespace, view.index), receipt, trust);
  }
  const delivery = view.delivery === undefined || receipt === undefined ? view.delivery : { ...view.delivery, receipt };
  printResult(
    opts,
    {
      namespace: ref.namespace,
      ...view,
      ...(delivery === undefined ? {} : { delivery }),
      ...(verification === undefined ? {} : { verification }),
    },
    () =>
      [
        describeStatus(ref.namespace, view),
        ...(opts.proofs ? proofLines(view, receipt) : []),
        ...(verification === undefined ? [] : ['', ...verificationLines(verification)]),
      ].join('\n'),
  );
  if (verification !== undefined) process.exitCode = verification.ok ? EXIT_OK : EXIT_FAILURE;
}
