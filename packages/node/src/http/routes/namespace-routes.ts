import type { FastifyReply, FastifyRequest } from 'fastify';
import { RemembrancerError, isUtcTimestamp } from '@vaultmesh/core';
import type { LogEngine } from '../../log/log-engine.js';
import type { NamespaceRules } from '../../namespaces/namespace-directory.js';
import { bearerToken } from '../../namespaces/writer-authorization.js';
import { namespaceIdParam } from '../params.js';
import type { RouteContext } from '../route-context.js';
import type { HttpArea } from '../scopes.js';
import { NAMESPACE_SPEC_BODY_LIMIT_BYTES } from '../../config/http-limits.js';
import type { NamespaceRecord } from '../../log/log-engine.js';
import { routeSealing } from '../sealed-query.js';

/** GET /v1/ns/{ns}: the log's identity and size, and every rule in force with its version. */
export async function namespaceView(engine: LogEngine, ctx: RouteContext, rules: NamespaceRules) {
  const record = engine.getNamespace(rules.id)!;
  const { directory, cadence } = ctx.namespaces;
  return {
    id: rules.id,
    origin: record.origin,
    log_vkey: record.logVkey,
    size: engine.integratedSize(rules.id),
    checkpoint_size: engine.latestCheckpoint(rules.id)?.size ?? 0,
    ...(await checkpointView(engine, ctx, record)),
    created_at: rules.created_at,
    updated_at: rules.updated_at,
    version: rules.version,
    system: rules.system,
    ...rules.spec,
    cadence_schedule: await cadence.view(rules.id),
    // Per target the cadence names: whether this node has it configured (an unconfigured one is
    // never silently ignored), what is anchored there and whether the namespace is queued.
    anchoring: (await ctx.anchoring?.namespaceView(record)) ?? {},
    pending: directory
      .pending()
      .filter((p) => 'namespace' in p.doc && p.doc.namespace === rules.id)
      .map((p) => ({ index: p.index, schema: p.doc.schema, effective_after: p.doc.effective_after })),
  };
}

/**
 * The latest checkpoint (when it was signed, sealed or not, by whom) and the newest sealed one:
 * what an explorer shows as a namespace's checkpoint age and sealing without parsing notes.
 */
async function checkpointView(engine: LogEngine, ctx: RouteContext, record: NamespaceRecord) {
  const cp = engine.latestCheckpoint(record.id);
  const sealing = routeSealing(ctx);
  const state = cp ? await sealing.sealState(record, cp) : undefined;
  const sealed = await sealing.latestSealed(record);
  return {
    checkpoint:
      cp && state
        ? {
            size: cp.size,
            signed_at: cp.publishedAt,
            sealed: state.sealed,
            cosigners: state.cosigners,
            min_required: state.min_required,
          }
        : null,
    sealed_checkpoint: sealed ? { size: sealed.checkpoint.size, signed_at: sealed.checkpoint.publishedAt } : null,
  };
}

function effectiveAfterParam(
  request: FastifyRequest<{ Querystring: { effective_after?: string } }>,
): string | undefined {
  const v = request.query.effective_after;
  if (v !== undefined && !isUtcTimestamp(v)) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      'effective_after must be an RFC 3339 UTC timestamp such as 2026-12-01T00:00:00Z',
    );
  }
  return v;
}

/**
 * A spec or cadence body: a JSON object. No body at all means "no members given" ({}); a body
 * that is JSON but not an object (`null`, `[]`, `"x"`) is refused, never read as {}.
 */
function specBody(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new RemembrancerError('INVALID_ARGUMENT', 'the request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

/** A namespace id whose rules an operator may change: not one of the node's own `sys:` namespaces. */
function changeableNamespace(raw: string): string {
  const id = namespaceIdParam(raw);
  if (id.startsWith('sys:'))
    throw new RemembrancerError('FORBIDDEN', `${id} is a system namespace; its rules are fixed`);
  return id;
}

/**
 * The answer to a rule change: the governance document it was recorded as, with the namespace's
 * view once it is in force (`status`), or 202 while it waits for its `effective_after`.
 */
async function answerChange(
  ctx: RouteContext,
  reply: FastifyReply,
  id: string,
  submitted: Awaited<ReturnType<RouteContext['namespaces']['directory']['propose']>>,
  status: number,
) {
  const { document } = submitted;
  const governance = {
    index: submitted.index,
    schema: document.schema,
    effective: submitted.effective,
    effective_after: document.effective_after,
  };
  const rules = ctx.namespaces.directory.rules(id);
  if (!submitted.effective || !rules) return reply.status(202).send({ id, governance });
  return reply.status(status).send({ ...(await namespaceView(ctx.engine, ctx, rules)), governance });
}

const rulesOf = (ctx: RouteContext, raw: string): NamespaceRules => {
  const id = namespaceIdParam(raw);
  const rules = ctx.namespaces.directory.rules(id);
  if (!rules || !ctx.engine.getNamespace(id))
    throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${id}' does not exist`);
  return rules;
};

/** Namespaces: the listing, each namespace's view, and rule changes. */
export const namespaceArea: HttpArea = {
  // Lists what the caller may see: public namespaces, and private ones its token reads.
  public(app, ctx) {
    const { directory, auth } = ctx.namespaces;
    app.get('/v1/ns', async (request) => {
      const token = bearerToken(request.headers.authorization);
      return {
        namespaces: await Promise.all(
          directory
            .list()
            .filter((r) => auth.mayList(r, token))
            .map((r) => namespaceView(ctx.engine, ctx, r)),
        ),
      };
    });
  },

  namespaceRead(app, ctx) {
    app.get<{ Params: { ns: string } }>('/v1/ns/:ns', async (request) =>
      namespaceView(ctx.engine, ctx, rulesOf(ctx, request.params.ns)),
    );
  },

  admin(app, ctx) {
    const { directory } = ctx.namespaces;
    /**
     * Creates a namespace or changes its rules (admin): the node signs a governance document with its
     * operator key and appends it to sys:governance. `If-None-Match: *` makes it create-only (409 if
     * the namespace exists), `If-Match: *` update-only (404 if it does not). `?effective_after=` defers
     * the change; 202 says it is recorded but not in force yet.
     */
    app.put<{ Params: { ns: string }; Body: unknown; Querystring: { effective_after?: string } }>(
      '/v1/ns/:ns',
      { bodyLimit: NAMESPACE_SPEC_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const id = changeableNamespace(request.params.ns);
        const body = specBody(request.body);
        const exists = directory.projectedRules(id) !== undefined;
        if (exists && request.headers['if-none-match'] === '*')
          throw new RemembrancerError('NAMESPACE_EXISTS', `namespace '${id}' already exists`);
        if (!exists && request.headers['if-match'] === '*')
          throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${id}' does not exist`);
        const submitted = await directory.propose(exists ? 'set' : 'create', id, body, effectiveAfterParam(request));
        return answerChange(ctx, reply, id, submitted, exists ? 200 : 201);
      },
    );

    app.put<{ Params: { ns: string }; Body: unknown; Querystring: { effective_after?: string } }>(
      '/v1/ns/:ns/cadence',
      { bodyLimit: NAMESPACE_SPEC_BODY_LIMIT_BYTES },
      async (request, reply) => {
        const id = changeableNamespace(request.params.ns);
        const submitted = await directory.propose('cadence', id, specBody(request.body), effectiveAfterParam(request));
        return answerChange(ctx, reply, id, submitted, 200);
      },
    );
  },
};
