import { RemembrancerError } from '@vaultmesh/core';
import { entryReceipts } from '../entry-receipts.js';
import { indexParam, namespaceParam } from '../params.js';
import type { HttpArea } from '../scopes.js';
import { notYetSealed, sealedQuery } from '../sealed-query.js';

/**
 * `GET /v1/ns/{ns}/receipt/{index}`: the receipt of one entry against the latest checkpoint, or with
 * `?sealed=1` against the latest sealed one (how a receipt is refreshed once witnesses cosigned).
 * Beside the design's fields it says `sealed` (whether its checkpoint met the namespace's witness
 * policy when built) and `sealing`: `min_required` (k), `allowlist` (peer ids whose cosignatures
 * count) and `cosigners` (allowlisted peers with a valid cosignature on that checkpoint, each once).
 * Both are the node's claim; an offline verifier checks them with the policy (`GET .../policy`).
 */
export const receiptArea: HttpArea = {
  namespaceRead(app, ctx) {
    app.get<{
      Params: { ns: string; index: string };
      Querystring: { format?: string; sealed?: string; anchored?: string };
    }>('/v1/ns/:ns/receipt/:index', async (request, reply) => {
      const ns = namespaceParam(ctx.engine, request.params.ns);
      const index = indexParam('index', request.params.index);
      const format = request.query.format ?? 'json';
      if (format !== 'json' && format !== 'tlog-proof') {
        throw new RemembrancerError('INVALID_ARGUMENT', `format must be 'json' or 'tlog-proof'`);
      }
      const wantSealed = sealedQuery(request.query.sealed);
      const wantAnchored = sealedQuery(request.query.anchored, 'anchored');
      const sequenced = ctx.engine.sequencedSize(ns.id);
      if (index >= sequenced)
        throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is beyond the log size ${sequenced}`);
      const built = await entryReceipts(ctx, ns, [index], wantSealed);
      if (!built && wantSealed) {
        notYetSealed(
          reply,
          `entry ${index} is not yet covered by a sealed checkpoint (its witnesses have not cosigned one that includes it); retry shortly`,
        );
      }
      if (!built) {
        // The entry is durable but no signed checkpoint covers it yet; one follows within the interval.
        reply.header('retry-after', '1');
        throw new RemembrancerError(
          'NOT_YET_IN_CHECKPOINT',
          `entry ${index} is not yet covered by a published checkpoint; retry shortly`,
        );
      }
      const { checkpoint: cp, state } = built;
      const receipt = built.receipts[0]!;
      reply.header('x-sealed', String(state.sealed));
      if (format === 'tlog-proof') {
        reply.type('text/plain; charset=utf-8');
        return receipt.tlog_proof;
      }
      if (wantAnchored) {
        const anchors = (await ctx.anchoring?.anchorsFor(ns, index, cp.size)) ?? [];
        reply.header('x-anchored', String(anchors.length > 0));
        return { ...receipt, anchors };
      }
      return receipt;
    });
  },
};
