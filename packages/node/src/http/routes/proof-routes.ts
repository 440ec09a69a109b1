import { RemembrancerError, base64Encode } from '@vaultmesh/core';
import { indexParam, namespaceParam } from '../params.js';
import type { HttpArea } from '../scopes.js';
import { notYetSealed, routeSealing, sealedQuery } from '../sealed-query.js';
import { consistencyProofAnswer } from '../proof-answers.js';

/** Inclusion and consistency proofs, and the checkpoint (plain or sealed). */
export const proofArea: HttpArea = {
  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
      '/v1/ns/:ns/proof/inclusion',
      async (request) => {
        const ns = namespaceParam(ctx.engine, request.params.ns);
        const index = indexParam('index', request.query.index);
        const size = indexParam('size', request.query.size);
        const treeSize = ctx.engine.integratedSize(ns.id);
        if (size > treeSize)
          throw new RemembrancerError('SIZE_OUT_OF_RANGE', `size ${size} is beyond the tree size ${treeSize}`);
        if (index >= size)
          throw new RemembrancerError('INDEX_OUT_OF_RANGE', `index ${index} is not below size ${size}`);
        const proof = await ctx.engine.inclusionProof(ns.id, index, size);
        const root = await ctx.engine.rootAt(ns.id, size);
        return { index, size, root: base64Encode(root), proof: proof.map(base64Encode) };
      },
    );

    app.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
      '/v1/ns/:ns/proof/consistency',
      async (request) => {
        return consistencyProofAnswer(ctx.engine, namespaceParam(ctx.engine, request.params.ns), request.query);
      },
    );

    app.get<{ Params: { ns: string }; Querystring: { sealed?: string } }>(
      '/v1/ns/:ns/checkpoint',
      async (request, reply) => {
        const ns = namespaceParam(ctx.engine, request.params.ns);
        const sealing = routeSealing(ctx);
        if (sealedQuery(request.query.sealed)) {
          // The newest checkpoint that meets the namespace's witness policy, with every cosignature held.
          const sealed = await sealing.latestSealed(ns);
          if (!sealed)
            notYetSealed(
              reply,
              `namespace '${ns.id}' has no sealed checkpoint yet: its witnesses have not cosigned one; retry shortly`,
            );
          reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache').header('x-sealed', 'true');
          return ctx.checkpointNote(ns.origin, sealed.checkpoint);
        }
        const cp = ctx.engine.latestCheckpoint(ns.id);
        if (!cp) throw new RemembrancerError('NOT_FOUND', `namespace '${ns.id}' has no checkpoint yet`);
        reply.type('text/plain; charset=utf-8').header('cache-control', 'no-cache');
        reply.header('x-sealed', String((await sealing.sealState(ns, cp)).sealed));
        // Marks a checkpoint that is log-signed but not yet cosigned by the federation's witness quorum
        // (e.g. during a partition); clients that need witnessing check these or the cosignatures.
        const w = await ctx.witnessState(ns.origin, cp);
        if (w)
          reply
            .header('x-witness-cosignatures', `${w.cosignatures}/${w.required}`)
            .header('x-witnessed', String(w.cosignatures >= w.required));
        return ctx.checkpointNote(ns.origin, cp);
      },
    );
  },
};
