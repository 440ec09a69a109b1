import { RemembrancerError } from '@vaultmesh/core';
import { REGISTRY_BODY_LIMIT_BYTES } from '../../config/http-limits.js';
import type { HttpArea } from '../scopes.js';

/** Registry, status and evidence (DESIGN.md: /v1/federation/*); absent without a federation. */
export const federationArea: HttpArea = {
  public(app, ctx) {
    const federation = ctx.federation;
    if (!federation) return;

    app.get<{ Querystring: { all?: string } }>('/v1/federation/registry', async (request) => {
      if (request.query.all === '1') return { versions: federation.registry.versions() };
      const latest = federation.registry.latest();
      if (!latest) throw new RemembrancerError('NOT_FOUND', 'this node is not in a federation yet (no registry)');
      return latest;
    });

    app.get('/v1/federation/status', async () => federation.status.status());

    /**
     * `GET /v1/federation/evidence[?origin=O]`: `{"evidence": [...]}`, every equivocation evidence
     * document this node holds (each verified against the registry in force when it arrived;
     * anyone can check it again with core's verifyEvidenceWithRegistry), oldest first.
     */
    app.get<{ Querystring: { origin?: string } }>('/v1/federation/evidence', async (request) => {
      const origin = request.query.origin;
      if (origin !== undefined && typeof origin !== 'string')
        throw new RemembrancerError('INVALID_ARGUMENT', 'origin must be given once');
      return { evidence: (await federation.ledger.list(origin)).map((e) => e.doc) };
    });
  },

  admin(app, ctx) {
    const federation = ctx.federation;
    if (!federation) return;
    // An operator applies a registry version (genesis, or the successor of the one in force); the
    // node verifies its signatures against the version in force before anything changes.
    app.put<{ Body: unknown }>(
      '/v1/federation/registry',
      { bodyLimit: REGISTRY_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const added = await federation.registry.offer(request.body);
        return reply.status(added ? 201 : 200).send({ version: federation.registry.latest()!.version, applied: added });
      },
    );
  },
};
