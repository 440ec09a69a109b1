import { RemembrancerError, buildReceipt, utf8Decode, type Receipt } from '@vaultmesh/core';
import type { PublishedCheckpoint } from '../../log/log-engine.js';
import type { SealState } from '../../namespaces/sealing.js';
import { indexParam, namespaceParam } from '../params.js';
import type { HttpArea } from '../scopes.js';
import { notYetSealed, routeSealing, sealedQuery } from '../sealed-query.js';

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
      const sealing = routeSealing(ctx);
      const sequenced = ctx.engine.sequencedSize(ns.id);
      if (index >= sequenced)
        throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is beyond the log size ${sequenced}`);
      let cp: PublishedCheckpoint | undefined;
      let state: SealState;
      if (wantSealed) {
        // Checkpoint sizes only grow, so the latest sealed one covers the entry or none does.
        const sealed = await sealing.latestSealed(ns);
        if (!sealed || sealed.checkpoint.size <= index) {
          notYetSealed(
            reply,
            `entry ${index} is not yet covered by a sealed checkpoint (its witnesses have not cosigned one that includes it); retry shortly`,
          );
        }
        ({ checkpoint: cp, state } = sealed);
      } else {
        cp = ctx.engine.latestCheckpoint(ns.id);
        if (!cp || cp.size <= index) {
          // The entry is durable but no signed checkpoint covers it yet; one follows within the interval.
          reply.header('retry-after', '1');
          throw new RemembrancerError(
            'NOT_YET_IN_CHECKPOINT',
            `entry ${index} is not yet covered by a published checkpoint; retry shortly`,
          );
        }
        state = await sealing.sealState(ns, cp);
      }
      const data = await ctx.engine.getEntry(ns.id, index);
      if (!data) throw new RemembrancerError('NOT_FOUND', `entry ${index} not found`);
      const receipt: Receipt = buildReceipt({
        namespace: ns.id,
        origin: ns.origin,
        index,
        entry: JSON.parse(utf8Decode(data)) as unknown,
        proof: await ctx.engine.inclusionProof(ns.id, index, cp.size),
        checkpointNote: await ctx.checkpointNote(ns.origin, cp),
      });
      reply.header('x-sealed', String(state.sealed));
      if (format === 'tlog-proof') {
        reply.type('text/plain; charset=utf-8');
        return receipt.tlog_proof;
      }
      receipt.sealed = state.sealed;
      receipt.sealing = { min_required: state.min_required, allowlist: state.allowlist, cosigners: state.cosigners };
      if (wantAnchored) {
        const anchors = (await ctx.anchoring?.anchorsFor(ns, index, cp.size)) ?? [];
        reply.header('x-anchored', String(anchors.length > 0));
        return { ...receipt, anchors };
      }
      return receipt;
    });
  },
};
