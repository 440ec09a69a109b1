import { RemembrancerError, base64Encode, isRemembrancerError, utf8Decode } from '@vaultmesh/core';
import { answerWhenCovered, appendWaitQuery, serverCoverageWaiters, stored } from '../append-wait.js';
import { bearerToken } from '../../namespaces/writer-authorization.js';
import { hashParam, indexParam, namespaceIdParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';
import { ENTRY_BODY_LIMIT_BYTES, UNAUTHENTICATED_BODY_LIMIT_BYTES } from '../../config/http-limits.js';
import { capBody } from '../body-cap.js';

/** The query of an append: whether and how long to wait for its receipt. */
type WaitQuery = { wait?: string; timeout?: string };

/** Largest batch accepted in one request; bigger imports are split by the client. */
export const MAX_BATCH_ENTRIES = 10_000;

/** Entries in one page of GET /v1/ns/{ns}/entries: at most, and when `limit` is not given. */
export const MAX_ENTRIES_LISTED = 100;
export const DEFAULT_ENTRIES_LISTED = 20;

/**
 * The namespace's rules admit the entries (writer, size, schema, quota, rate: see EntryAdmission)
 * before any is queued; the quota reservation is held until the append settles.
 */
async function append(
  ctx: RouteContext,
  namespace: string,
  authorization: string | undefined,
  entries: readonly unknown[],
  batch: boolean,
) {
  let admitted;
  try {
    admitted = await ctx.namespaces.admission.admitYielding(namespace, bearerToken(authorization), entries, batch);
  } catch (e) {
    ctx.metrics.appendRejected.inc({ code: isRemembrancerError(e) ? e.code : 'INTERNAL' });
    throw e;
  }
  try {
    const results = await ctx.engine.append(namespace, admitted.bytes);
    ctx.metrics.entriesAppended.inc({ namespace }, entries.length);
    return results;
  } catch (e) {
    ctx.metrics.appendRejected.inc({ code: isRemembrancerError(e) ? e.code : 'INTERNAL' });
    throw e;
  } finally {
    admitted.release();
  }
}

/** Appends (writer scope: the namespace and the token are checked before the body is read) and entries read back. */
export const entryArea: HttpArea = {
  writer(app, ctx) {
    // `?wait=checkpoint|sealed`: the append answers with its receipts (append-wait.ts).
    const waiters = serverCoverageWaiters(app, ctx);

    app.post<{ Params: { ns: string }; Querystring: WaitQuery; Body: unknown }>(
      '/v1/ns/:ns/entries',
      { bodyLimit: ENTRY_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const id = namespaceIdParam(request.params.ns);
        const wait = appendWaitQuery(request.query);
        const results = await append(ctx, id, request.headers.authorization, [request.body], false);
        if (wait) return answerWhenCovered(ctx, waiters, reply, id, results, wait, false);
        return reply.status(201).send(stored(results, false));
      },
    );

    app.post<{ Params: { ns: string }; Querystring: WaitQuery; Body: unknown }>(
      '/v1/ns/:ns/batch',
      {
        bodyLimit: ctx.batchBodyLimitBytes,
        // Without a token, only signatures inside the body can authorize it: read less of it.
        preParsing: capBody((request) =>
          request.headers.authorization === undefined
            ? Math.min(UNAUTHENTICATED_BODY_LIMIT_BYTES, ctx.batchBodyLimitBytes)
            : undefined,
        ),
      },
      async (request, reply) => {
        const id = namespaceIdParam(request.params.ns);
        const wait = appendWaitQuery(request.query);
        const body = request.body as { entries?: unknown } | null;
        if (body === null || typeof body !== 'object' || Array.isArray(body) || !Array.isArray(body.entries)) {
          throw new RemembrancerError('INVALID_ARGUMENT', 'batch body must be {"entries": [ ... ]}');
        }
        if (body.entries.length === 0) throw new RemembrancerError('INVALID_ARGUMENT', 'batch has no entries');
        if (body.entries.length > MAX_BATCH_ENTRIES) {
          throw new RemembrancerError(
            'PAYLOAD_TOO_LARGE',
            `batch has ${body.entries.length} entries; the limit is ${MAX_BATCH_ENTRIES}`,
          );
        }
        // Every entry is checked before any is queued: a batch is stored whole or not at all.
        const results = await append(ctx, id, request.headers.authorization, body.entries, true);
        if (wait) return answerWhenCovered(ctx, waiters, reply, id, results, wait, true);
        return reply.status(201).send(stored(results, true));
      },
    );
  },

  namespaceRead(app, ctx) {
    // Recent entries, newest first, a page at a time: `next` is the `before` of the next page.
    app.get<{ Params: { ns: string }; Querystring: { before?: unknown; limit?: unknown } }>(
      '/v1/ns/:ns/entries',
      async (request, reply) => {
        const ns = namespaceParam(ctx.engine, request.params.ns);
        const size = ctx.engine.integratedSize(ns.id);
        const q = request.query;
        const before = q.before === undefined ? size : indexParam('before', q.before);
        if (before > size)
          throw new RemembrancerError('INDEX_OUT_OF_RANGE', `before ${before} is beyond the tree size ${size}`);
        const limit = q.limit === undefined ? DEFAULT_ENTRIES_LISTED : indexParam('limit', q.limit);
        if (limit < 1 || limit > MAX_ENTRIES_LISTED)
          throw new RemembrancerError('INVALID_ARGUMENT', `limit must be from 1 to ${MAX_ENTRIES_LISTED}`);
        const start = Math.max(0, before - limit);
        const datas = await ctx.engine.getEntries(ns.id, start, before);
        const items: string[] = [];
        for (let i = datas.length - 1; i >= 0; i--) {
          const index = start + i;
          const leafHash = await ctx.engine.leafHashAt(ns.id, index);
          // Stored bytes are canonical JSON: spliced in verbatim, as for a single entry.
          items.push(`{"index":${index},"leaf_hash":"${base64Encode(leafHash)}","entry":${utf8Decode(datas[i]!)}}`);
        }
        reply.type('application/json; charset=utf-8');
        return `{"size":${size},"entries":[${items.join(',')}]${start > 0 ? `,"next":${start}` : ''}}`;
      },
    );

    // Search by leaf hash (RFC 6962 SHA-256(0x00 ‖ entry)): the first index holding it.
    app.get<{ Params: { ns: string; hash: string } }>('/v1/ns/:ns/leaf/:hash', async (request) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const hash = hashParam('leaf hash', request.params.hash);
      const index = await ctx.engine.findLeaf(ns.id, hash);
      if (index === undefined) throw new RemembrancerError('NOT_FOUND', `no entry of ${ns.id} has this leaf hash`);
      return { index, leaf_hash: base64Encode(hash) };
    });

    app.get<{ Params: { ns: string; index: string } }>('/v1/ns/:ns/entries/:index', async (request, reply) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const index = indexParam('index', request.params.index);
      const size = ctx.engine.integratedSize(ns.id);
      if (index >= size)
        throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is beyond the tree size ${size}`);
      const data = await ctx.engine.getEntry(ns.id, index);
      if (!data) throw new RemembrancerError('NOT_FOUND', `entry ${index} not found`);
      const leafHash = await ctx.engine.leafHashAt(ns.id, index);
      // The stored bytes are canonical JSON already: splice them in verbatim so clients see exactly what was hashed.
      reply.type('application/json; charset=utf-8');
      return `{"index":${index},"entry":${utf8Decode(data)},"leaf_hash":"${base64Encode(leafHash)}"}`;
    });
  },
};
