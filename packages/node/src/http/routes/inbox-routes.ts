import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RemembrancerError, errorMessage, type ErrorCode } from '@vaultmesh/core';
import { UNAUTHENTICATED_BODY_LIMIT_BYTES } from '../../config/http-limits.js';
import { inboxTargetRules, MAX_INBOX_PAGE } from '../../messaging/inbox/inbox.js';
import { MAX_INBOX_BATCH, type InboxPage, type InboxService, type InboxVia } from '../../messaging/messaging-wire.js';
import { bearerToken } from '../../namespaces/writer-authorization.js';
import { OpenReads, startEventStream, writeEvent } from '../event-stream.js';
import { messageBatchOf } from '../message-batch.js';
import { indexParam, namespaceIdParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';

/** Items of a page when the reader names no limit. */
export const DEFAULT_INBOX_PAGE = 100;
/** Longest long-poll a reader may ask for (`wait`), seconds. */
export const MAX_INBOX_WAIT_SECONDS = 30;
/** A comment line on an idle event stream this often, ms: proxies and the node's idle timeout keep it open. */
export const SSE_HEARTBEAT_MS = 15_000;

function inboxOf(ctx: RouteContext): InboxService {
  if (!ctx.inbox) throw new RemembrancerError('NOT_FOUND', 'this node receives no messages');
  return ctx.inbox;
}

/**
 * Statuses of refusals whose codes the API's catalogue leaves at 500 (error-status.ts): elsewhere
 * they are the node's own faults — a receipt it built that does not verify — while here they say
 * what is wrong with the proof a sender brought, so they are the sender's: 400 for a proof that
 * is not well-formed, 422 for one that proves something else.
 */
const PROOF_REFUSAL_STATUS: Partial<Record<ErrorCode, number>> = {
  TLOG_PROOF_MALFORMED: 400,
  NOTE_MALFORMED: 400,
  CHECKPOINT_MALFORMED: 400,
  COSIGNATURE_MALFORMED: 400,
  PROOF_MALFORMED: 400,
  ORIGIN_MISMATCH: 422,
  PROOF_MISMATCH: 422,
  LEAF_HASH_MISMATCH: 422,
};

/**
 * One delivery request: a lone message answers its result (200 accepted or duplicate, 202 held)
 * or its refusal as every error of the API ({code, message} with the code's status); a batch
 * answers 200 with every result in order. What the request as a whole cannot do (no such
 * namespace, a private one over the public route) is refused before anything is verified.
 */
async function deliver(
  ctx: RouteContext,
  request: FastifyRequest<{ Params: { ns: string } }>,
  reply: FastifyReply,
  via: InboxVia,
): Promise<unknown> {
  const ns = namespaceIdParam(request.params.ns);
  const inbox = inboxOf(ctx);
  inboxTargetRules(ctx.namespaces.directory, ns, via);
  const { messages, batch } = messageBatchOf(request.body, MAX_INBOX_BATCH);
  const results = await inbox.receive(ns, messages, via);
  if (batch) return { results };
  const result = results[0]!;
  if (result.status === 'refused') {
    const { code, message } = result.error!;
    const status = PROOF_REFUSAL_STATUS[code];
    if (status === undefined) throw new RemembrancerError(code, message);
    return reply.status(status).type('application/json; charset=utf-8').send({ code, message });
  }
  return reply.status(result.status === 'held' ? 202 : 200).send(result);
}

/** Attacker-controlled query member → an integer in [min, max], or its default when absent. */
function boundedParam(name: string, raw: unknown, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = indexParam(name, raw);
  if (n < min || n > max) throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be between ${min} and ${max}`);
  return n;
}

interface InboxQuery {
  after?: string;
  limit?: string;
  wait?: string;
}

function sseEvent(item: InboxPage['items'][number]): string {
  // JSON.stringify never emits a raw newline, so the item is one data line.
  return `id: ${item.cursor}\nevent: message\ndata: ${JSON.stringify(item)}\n\n`;
}

/**
 * Server-sent events (https://html.spec.whatwg.org/multipage/server-sent-events.html): every item
 * after the reader's cursor (`Last-Event-ID` when it reconnects, else `after`) as an event
 * `message` whose id is the item's cursor, then each new item as it arrives, with a comment line
 * as heartbeat when idle. Ends when the reader goes, the server closes, or the inbox fails.
 */
async function streamEvents(
  inbox: InboxService,
  ns: string,
  after: number,
  limit: number,
  reply: FastifyReply,
  signal: AbortSignal,
  log: FastifyRequest['log'],
): Promise<void> {
  const res = startEventStream(reply);
  let cursor = after;
  try {
    await writeEvent(res, `retry: 1000\n\n`, signal);
    while (!signal.aborted) {
      const page = await inbox.page(ns, cursor, limit);
      for (const item of page.items) {
        if (signal.aborted) break;
        await writeEvent(res, sseEvent(item), signal);
        cursor = item.cursor;
      }
      if (page.items.length === limit || signal.aborted) continue;
      await inbox.waitForItems(ns, cursor, SSE_HEARTBEAT_MS, signal);
      if (!signal.aborted && (await inbox.page(ns, cursor, 1)).items.length === 0)
        await writeEvent(res, ': heartbeat\n\n', signal);
    }
  } catch (e) {
    // Headers are sent: the stream ends, the reader reconnects with its Last-Event-ID.
    log.warn({ namespace: ns, err: errorMessage(e) }, 'inbox event stream ended by an error');
  } finally {
    res.end();
  }
}

/**
 * Cross-namespace messages, the receiving side (issue 12, items 3, 6, 7).
 *
 * `POST /v1/ns/{ns}/inbox` (public: anyone may relay a message; its proof is what authorizes it)
 * and `POST /v1/federation/peer/ns/{ns}/inbox` (peer-signed, RFC 9421: how nodes deliver, and the
 * only way into a private namespace) take one message or `{"messages": [...]}`.
 *
 * `GET /v1/ns/{ns}/inbox?after=&limit=&wait=` lists the application inbox — long-polling up to
 * `wait` seconds when it has nothing after `after` — or, with `Accept: text/event-stream`, streams
 * it. Reading needs a token of the namespace or the admin token whatever the namespace's
 * visibility (WriterAuthorization.authorizeInboxRead).
 */
export const inboxArea: HttpArea = {
  public(app: FastifyInstance, ctx) {
    app.post<{ Params: { ns: string }; Body: unknown }>(
      '/v1/ns/:ns/inbox',
      // Unauthenticated: parsed up to what any client without a credential may send. One
      // message (entry ≤ 64 KiB, proof ≤ 64 Ki characters) fits with room; relays batch less.
      { bodyLimit: UNAUTHENTICATED_BODY_LIMIT_BYTES },
      (request, reply) => deliver(ctx, request, reply, { kind: 'public' }),
    );
  },

  namespaceRead(app, ctx) {
    const reads = new OpenReads();
    app.addHook('preClose', async () => reads.close());
    app.get<{ Params: { ns: string }; Querystring: InboxQuery }>(
      '/v1/ns/:ns/inbox',
      {
        // Beyond the scope's read check: a token of this namespace even when it is public.
        onRequest: async (request) => {
          const rules = ctx.namespaces.directory.rules(namespaceIdParam(request.params.ns));
          if (rules) ctx.namespaces.auth.authorizeInboxRead(rules, bearerToken(request.headers.authorization));
        },
      },
      async (request, reply) => {
        const ns = namespaceParam(ctx.engine, request.params.ns).id;
        const inbox = inboxOf(ctx);
        const q = request.query;
        const lastEventId = request.headers['last-event-id'];
        const after =
          typeof lastEventId === 'string' && lastEventId !== ''
            ? indexParam('Last-Event-ID', lastEventId)
            : boundedParam('after', q.after, 0, 0, Number.MAX_SAFE_INTEGER);
        const limit = boundedParam('limit', q.limit, DEFAULT_INBOX_PAGE, 1, MAX_INBOX_PAGE);
        const wait = boundedParam('wait', q.wait, 0, 0, MAX_INBOX_WAIT_SECONDS);
        const read = reads.open(reply);
        try {
          if ((request.headers.accept ?? '').includes('text/event-stream')) {
            await streamEvents(inbox, ns, after, limit, reply, read.signal, request.log);
            return reply;
          }
          let page = await inbox.page(ns, after, limit);
          if (page.items.length === 0 && wait > 0) {
            await inbox.waitForItems(ns, after, wait * 1000, read.signal);
            page = await inbox.page(ns, after, limit);
          }
          return page;
        } finally {
          read.done();
        }
      },
    );
  },

  peer(app, ctx) {
    app.post<{ Params: { ns: string }; Body: unknown }>('/v1/federation/peer/ns/:ns/inbox', (request, reply) =>
      deliver(ctx, request, reply, { kind: 'peer', peer: request.peer!.id }),
    );
  },
};
