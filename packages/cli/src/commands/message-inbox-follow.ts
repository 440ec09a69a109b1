import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import type { InboxItem } from '@vaultmesh/node';
import { ApiError, type ApiClient } from '../client/api-client.js';
import { EventStreamParser } from '../client/event-stream-parser.js';
import { inboxReadPath } from './message-paths.js';
import { inboxItemFromText } from './message-inbox-item.js';

/*
 * `message inbox NS --follow`: the inbox as server-sent events (GET /v1/ns/{ns}/inbox with
 * `Accept: text/event-stream`), printed as they come until the signal aborts. A dropped connection
 * or a node that is down is retried with a doubling, capped pause (starting from the stream's
 * `retry:` time when the node sent one), asking from the last cursor printed (`after` and
 * `Last-Event-ID`), so nothing is printed twice or skipped. An answer that retrying cannot
 * change — a refusal (4xx), an item or stream of the wrong form — ends the command.
 */

export interface Backoff {
  firstMs: number;
  maxMs: number;
}

export const DEFAULT_FOLLOW_BACKOFF: Backoff = { firstMs: 250, maxMs: 10_000 };

export interface FollowOptions {
  /** Print the items after this cursor. */
  after: number;
  signal: AbortSignal;
  onItem(item: InboxItem): void;
  /** Each time the stream (re)opens. */
  onConnected?(after: number): void;
  /** Each time the connection is lost, before the pause. */
  onRetry?(why: string, pauseMs: number): void;
  backoff?: Backoff;
}

/** The pause after `failures` consecutive failed connections: first, doubled each time, at most max. */
export function backoffMs(backoff: Backoff, failures: number): number {
  return Math.min(backoff.maxMs, backoff.firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 30));
}

/** Whether asking again might succeed: transport failures, timeouts, overload and server errors. */
export function isRetryable(e: unknown): boolean {
  if (e instanceof ApiError) return e.status >= 500 || e.status === 408 || e.status === 429;
  // Not reachable, reset mid-stream: the client's own wrapping, or a fetch/stream TypeError.
  return !(e instanceof RemembrancerError) || e.code === 'INTERNAL';
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Reads one connection's events until the node closes the stream (or it breaks: then it throws). */
async function readStream(
  client: ApiClient,
  namespace: string,
  after: number,
  signal: AbortSignal,
  onConnected: () => void,
  onItem: (item: InboxItem) => void,
  onRetryHint: (ms: number) => void,
): Promise<void> {
  const res = await client.openStream(
    inboxReadPath(client, namespace, { after }),
    { accept: 'text/event-stream', ...(after > 0 ? { 'last-event-id': String(after) } : {}) },
    signal,
  );
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    throw new RemembrancerError(
      'PEER_ANSWER_MALFORMED',
      `the inbox answered ${type || 'no content type'}, not text/event-stream`,
    );
  }
  onConnected();
  if (res.body === null) return;
  const parser = new EventStreamParser();
  const decoder = new TextDecoder();
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    for (const event of parser.push(decoder.decode(value, { stream: true }))) {
      if (event.type === 'message') onItem(inboxItemFromText(event.data));
    }
    if (parser.retryMs !== undefined) onRetryHint(parser.retryMs);
  }
}

/** Follows the inbox until `opts.signal` aborts; throws what retrying cannot fix. */
export async function followInbox(client: ApiClient, namespace: string, opts: FollowOptions): Promise<void> {
  const backoff = opts.backoff ?? DEFAULT_FOLLOW_BACKOFF;
  let cursor = opts.after;
  let failures = 0;
  let first = backoff.firstMs;
  while (!opts.signal.aborted) {
    let connectedAt: number | undefined;
    let why = 'the node closed the stream';
    try {
      await readStream(
        client,
        namespace,
        cursor,
        opts.signal,
        () => {
          connectedAt = Date.now();
          opts.onConnected?.(cursor);
        },
        (item) => {
          // A node replaying what was printed (a reconnection racing a write) is not printed twice.
          if (item.cursor <= cursor) return;
          cursor = item.cursor;
          opts.onItem(item);
        },
        (ms) => {
          // The stream's `retry:` field: the server's reconnection time, within our own bounds.
          first = Math.min(Math.max(ms, 1), backoff.maxMs);
        },
      );
    } catch (e) {
      if (opts.signal.aborted) return;
      if (!isRetryable(e)) throw e;
      why = errorMessage(e);
    }
    if (opts.signal.aborted) return;
    // A stream that stayed open a while was a working connection: start the backoff again.
    if (connectedAt !== undefined && Date.now() - connectedAt >= backoff.maxMs) failures = 0;
    failures++;
    const ms = backoffMs({ ...backoff, firstMs: first }, failures);
    opts.onRetry?.(why, ms);
    await pause(ms, opts.signal);
  }
}
