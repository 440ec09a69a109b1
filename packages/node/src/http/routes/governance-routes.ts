import type { HttpArea } from '../scopes.js';
import { GOVERNANCE_BODY_LIMIT_BYTES } from '../../config/http-limits.js';

/**
 * The governance log as an API: submit a document signed by operators (the signatures are the
 * authorization, so no token is needed), and read the log with what is still pending. The same
 * documents are the entries of sys:governance, with receipts and proofs like any namespace.
 */
export const governanceArea: HttpArea = {
  public(app, ctx) {
    const { directory } = ctx.namespaces;

    // Unauthenticated: a document is at most one log entry (65,535 bytes of JCS), so bodies far
    // beyond that are refused before they are parsed.
    app.post<{ Body: unknown }>(
      '/v1/governance',
      { bodyLimit: GOVERNANCE_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const submitted = await directory.submit(request.body);
        return reply.status(submitted.effective ? 201 : 202).send({
          index: submitted.index,
          schema: submitted.document.schema,
          effective: submitted.effective,
          effective_after: submitted.document.effective_after,
        });
      },
    );

    app.get('/v1/governance', async () => ({
      documents: directory.documents().map((d) => ({ index: d.index, document: d.doc })),
      pending: directory.pending().map((p) => p.index),
    }));
  },
};
