import type { FastifyInstance } from 'fastify';
import { RemembrancerError, buildReceipt, utf8Decode } from '@vaultmesh/core';
import { indexParam, namespaceParam } from '../params.js';
import type { RouteContext } from '../server.js';

export function receiptRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { ns: string; index: string }; Querystring: { format?: string } }>('/v1/ns/:ns/receipt/:index', async (request, reply) => {
    const ns = namespaceParam(ctx.engine, request.params.ns);
    const index = indexParam('index', request.params.index);
    const format = request.query.format ?? 'json';
    if (format !== 'json' && format !== 'tlog-proof') {
      throw new RemembrancerError('INVALID_ARGUMENT', `format must be 'json' or 'tlog-proof'`);
    }
    const sequenced = ctx.engine.sequencedSize(ns.id);
    if (index >= sequenced) throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is beyond the log size ${sequenced}`);
    const cp = ctx.engine.latestCheckpoint(ns.id);
    if (!cp || cp.size <= index) {
      // The entry is durable but no signed checkpoint covers it yet; one follows within the interval.
      reply.header('retry-after', '1');
      throw new RemembrancerError('NOT_YET_IN_CHECKPOINT', `entry ${index} is not yet covered by a published checkpoint; retry shortly`);
    }
    const data = ctx.engine.getEntry(ns.id, index);
    if (!data) throw new RemembrancerError('NOT_FOUND', `entry ${index} not found`);
    const receipt = buildReceipt({
      namespace: ns.id,
      origin: ns.origin,
      index,
      entry: JSON.parse(utf8Decode(data)) as unknown,
      proof: ctx.engine.inclusionProof(ns.id, index, cp.size),
      checkpointNote: ctx.checkpointNote(ns.origin, cp),
    });
    if (format === 'tlog-proof') {
      reply.type('text/plain; charset=utf-8');
      return receipt.tlog_proof;
    }
    return receipt;
  });
}
