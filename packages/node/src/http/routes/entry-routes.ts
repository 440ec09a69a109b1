import { RemembrancerError, base64Encode, isRemembrancerError, utf8Decode } from '@vaultmesh/core';
import { bearerToken } from '../../namespaces/writer-authorization.js';
import { indexParam, namespaceIdParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';
import { ENTRY_BODY_LIMIT_BYTES, UNAUTHENTICATED_BODY_LIMIT_BYTES } from '../../config/http-limits.js';
import { capBody } from '../body-cap.js';

/** Largest batch accepted in one request; bigger imports are split by the client. */
export const MAX_BATCH_ENTRIES = 10_000;

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
    app.post<{ Params: { ns: string }; Body: unknown }>(
      '/v1/ns/:ns/entries',
      { bodyLimit: ENTRY_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const id = namespaceIdParam(request.params.ns);
        const [result] = await append(ctx, id, request.headers.authorization, [request.body], false);
        return reply.status(201).send({ index: result!.index, leaf_hash: base64Encode(result!.leafHash) });
      },
    );

    app.post<{ Params: { ns: string }; Body: unknown }>(
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
        return reply
          .status(201)
          .send({ indices: results.map((r) => r.index), leaf_hashes: results.map((r) => base64Encode(r.leafHash)) });
      },
    );
  },

  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string; index: string } }>('/v1/ns/:ns/entries/:index', async (request, reply) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const index = indexParam('index', request.params.index);
      const size = ctx.engine.integratedSize(ns.id);
      if (index >= size)
        throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is beyond the tree size ${size}`);
      const data = ctx.engine.getEntry(ns.id, index);
      if (!data) throw new RemembrancerError('NOT_FOUND', `entry ${index} not found`);
      const leafHash = ctx.engine.leafHashAt(ns.id, index);
      // The stored bytes are canonical JSON already: splice them in verbatim so clients see exactly what was hashed.
      reply.type('application/json; charset=utf-8');
      return `{"index":${index},"entry":${utf8Decode(data)},"leaf_hash":"${base64Encode(leafHash)}"}`;
    });
  },
};
