import type { InboxPage } from '@vaultmesh/node';
import { clientFrom, type ConnectionOptions } from '../client/connection.js';
import { UsageError } from '../output.js';
import { stopOnSignal } from '../stop-on-signal.js';
import { followInbox } from './message-inbox-follow.js';
import { inboxItem, inboxJsonLine, inboxLine } from './message-inbox-item.js';
import { namespaceId, secondsMs, wholeNumber } from './message-options.js';
import { inboxReadPath } from './message-paths.js';

export interface InboxOptions extends ConnectionOptions {
  after: string;
  limit?: string;
  wait: string;
  follow?: boolean;
  json?: boolean;
}

/** The most items one page asks for; the node may cap it lower. */
export const MAX_INBOX_LIMIT = 1000;
/** The longest long-poll the route allows (`wait` ≤ 30 s). */
export const MAX_INBOX_WAIT_SECONDS = 30;

/** The checked flags of `message inbox`. */
export function inboxQuery(
  ns: string,
  opts: InboxOptions,
): { namespace: string; after: number; limit?: number; waitSeconds: number; follow: boolean } {
  const namespace = namespaceId('namespace', ns);
  const after = wholeNumber('--after', opts.after, 0, Number.MAX_SAFE_INTEGER);
  const limit = opts.limit === undefined ? undefined : wholeNumber('--limit', opts.limit, 1, MAX_INBOX_LIMIT);
  const waitSeconds = secondsMs('--wait', opts.wait, 0, MAX_INBOX_WAIT_SECONDS) / 1000;
  const follow = opts.follow === true;
  if (follow && (limit !== undefined || waitSeconds > 0))
    throw new UsageError('--follow prints every item as it arrives: --limit and --wait are for one page');
  return { namespace, after, ...(limit === undefined ? {} : { limit }), waitSeconds, follow };
}

export async function messageInbox(ns: string, opts: InboxOptions): Promise<void> {
  const q = inboxQuery(ns, opts);
  const client = clientFrom(opts);
  const print = (line: string) => process.stdout.write(line + '\n');
  if (!q.follow) {
    const page = await client.json<InboxPage>('GET', inboxReadPath(client, q.namespace, q));
    const items = (Array.isArray(page.items) ? page.items : []).map(inboxItem);
    for (const item of items) print(opts.json ? inboxJsonLine(item) : inboxLine(item));
    // stdout holds only items (to pipe on): where to read on goes to stderr.
    if (!opts.json) process.stderr.write(`${items.length} message(s); next: --after ${page.next}\n`);
    return;
  }
  const stopping = new AbortController();
  // Installed before the first connection: a signal at any point stops cleanly, exit 0.
  void stopOnSignal(async () => stopping.abort());
  const note = (text: string) => {
    if (!opts.json) process.stderr.write(text + '\n');
  };
  await followInbox(client, q.namespace, {
    after: q.after,
    signal: stopping.signal,
    onItem: (item) => print(opts.json ? inboxJsonLine(item) : inboxLine(item)),
    onConnected: (after) => note(`following ${q.namespace} after cursor ${after} (Ctrl-C stops)`),
    onRetry: (why, ms) => note(`connection lost (${why}); reconnecting in ${(ms / 1000).toFixed(1)} s`),
  });
}
