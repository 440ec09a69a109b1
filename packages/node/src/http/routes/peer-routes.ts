import { MAX_CONSISTENCY_PROOF_HASHES, RemembrancerError, base64Encode } from '@vaultmesh/core';
import { indexParam, namespaceParam } from '../params.js';
import { EVIDENCE_PATH, isEpochEvidence } from '../../federation/evidence-ledger.js';
import { PEER_VIEW_PATH, type PeerView } from '../../federation/gossip.js';
import { PEER_NS_PATH } from '../../federation/peer-client.js';
import type { HttpArea } from '../scopes.js';
import { consistencyProofAnswer } from '../proof-answers.js';

/**
 * The routes only registry peers may call (RFC 9421-signed, see peer-scope.ts):
 * `GET /v1/federation/peer/view`, what gossip pulls; `POST /v1/federation/evidence`, where
 * peers push equivocation evidence (201 stored, 200 already held, 400 proves nothing); and the
 * hashes the equivocation monitor needs to settle two checkpoints of one of this node's logs,
 * `GET /v1/federation/peer/ns/{ns}/proof/consistency?from=A&to=B` and
 * `GET /v1/federation/peer/ns/{ns}/root?size=S`, for public and private namespaces alike.
 */
export const peerArea: HttpArea = {
  peer(app, ctx) {
    const federation = ctx.federation!;
    app.get(PEER_VIEW_PATH, async (): Promise<PeerView> => {
      const checkpoints: Array<[string, string]> = [];
      for (const ns of ctx.engine.listNamespaces()) {
        const cp = ctx.engine.latestCheckpoint(ns.id);
        if (cp) checkpoints.push([ns.origin, await ctx.checkpointNote(ns.origin, cp)]);
      }
      return {
        registry_version: federation.registry.latest()?.version ?? null,
        // fromEntries defines own properties, so even an origin spelled "__proto__" is plain data.
        checkpoints: Object.fromEntries(checkpoints),
        witnessed: Object.fromEntries(((await federation.witnessed?.()) ?? []).map((w) => [w.origin, w.note])),
      };
    });

    // Hashes only, never entries: what a witness already learns from checkpoints, so a private
    // namespace's privacy (docs/api.md) is kept while peers watch it for split views. The public
    // proof routes would ask peers for a read token they do not have.
    app.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
      `${PEER_NS_PATH}/:ns/proof/consistency`,
      async (request) => {
        const ns = namespaceParam(ctx.engine, request.params.ns);
        const answer = await consistencyProofAnswer(ctx.engine, ns, request.query);
        // RFC 9162 §2.1.4.1: at most about 2·log2(to) hashes; peers refuse longer answers.
        if (answer.proof.length > MAX_CONSISTENCY_PROOF_HASHES) {
          throw new RemembrancerError(
            'SIZE_OUT_OF_RANGE',
            `a proof from ${answer.from} to ${answer.to} exceeds ${MAX_CONSISTENCY_PROOF_HASHES} hashes`,
          );
        }
        return answer;
      },
    );

    app.get<{ Params: { ns: string }; Querystring: Record<string, string> }>(
      `${PEER_NS_PATH}/:ns/root`,
      async (request) => {
        const ns = namespaceParam(ctx.engine, request.params.ns);
        const size = indexParam('size', request.query.size);
        const treeSize = ctx.engine.integratedSize(ns.id);
        if (size > treeSize)
          throw new RemembrancerError('SIZE_OUT_OF_RANGE', `size ${size} is beyond the tree size ${treeSize}`);
        return { size, root: base64Encode(await ctx.engine.rootAt(ns.id, size)) };
      },
    );

    // The body is attacker-controlled (even a registry peer may lie): the ledger verifies it
    // against the registry in force before anything is stored.
    app.post<{ Body: unknown }>(EVIDENCE_PATH, async (request, reply) => {
      const accepted = await federation.ledger.accept(request.body, request.peer!.id);
      return reply.status(accepted.outcome === 'new' ? 201 : 200).send({
        digest: accepted.digest,
        ...(isEpochEvidence(accepted.evidence) ? { signer: accepted.subject } : { origin: accepted.subject }),
        stored: accepted.outcome === 'new',
      });
    });
  },
};
