import type { FastifyInstance, FastifyRequest } from 'fastify';
import { bearerToken } from '../namespaces/writer-authorization.js';
import { requireBearer } from './auth.js';
import { allowCrossOriginReads, preflightRoutes } from './cors.js';
import { namespaceIdParam } from './params.js';
import { peerScope } from './peer-scope.js';
import type { RouteContext } from './route-context.js';

/*
 * Who may call a route is decided by the scope it is declared in, never by the route itself.
 * Each scope is an encapsulated Fastify context whose hooks run before any route of it, on the
 * request's headers alone (onRequest: before a body is read):
 *
 *   public         anyone; routes that need no credential, or carry their authorization in the
 *                  body (governance documents: operator signatures; the witness: log signatures)
 *   namespaceRead  reads under /v1/ns/{ns}: anyone for a public namespace, the admin token or one
 *                  of the namespace's tokens for a private one
 *   writer         appends to /v1/ns/{ns}: a writer token, the admin token where the namespace
 *                  names no writers, or none where key writers' signatures in the body can decide
 *   admin          the admin token
 *   peer           RFC 9421-signed requests of registry peers, bound to this node (peer-scope.ts)
 *
 * GET and HEAD routes of public and namespaceRead answer cross-origin reads (CORS, cors.ts);
 * no other scope does.
 *
 * An area of the API (routes/*) is an object with a function per scope it declares routes in, so
 * a route's protection is visible where it is written. Areas get scopes only, never the root
 * app, and the server refuses to start if a route was added outside a scope.
 */

export type ScopeName = 'public' | 'namespaceRead' | 'writer' | 'admin' | 'peer';

/** An area of the API: the routes it declares in each scope. */
export type HttpArea = Partial<Record<ScopeName, (scope: FastifyInstance, ctx: RouteContext) => void>>;

const SCOPE_MARK = 'scope';

/** The scope a route was declared in (a route's config carries it; tests and metrics read it). */
export function routeScope(config: unknown): ScopeName | undefined {
  return (config as Record<string, ScopeName> | undefined)?.[SCOPE_MARK];
}

/** Onrequest hooks that decide who may enter each scope (peer has its own context, peer-scope.ts). */
function gate(
  scope: Exclude<ScopeName, 'peer'>,
  ctx: RouteContext,
): ((request: FastifyRequest) => Promise<void>) | undefined {
  switch (scope) {
    case 'public':
      return undefined;
    case 'admin':
      return requireBearer(ctx.adminToken);
    case 'namespaceRead':
      // Private namespaces: every read under /v1/ns/{ns} needs a read token (or the admin token).
      return async (request) => {
        const rules = ctx.namespaces.directory.rules(namespaceIdParam((request.params as { ns: string }).ns));
        // An unknown namespace is the route's 404 to tell.
        if (rules) ctx.namespaces.auth.authorizeRead(rules, bearerToken(request.headers.authorization));
      };
    case 'writer':
      // What can be decided before the body is read: the namespace takes writes and the token may write.
      return async (request) => {
        ctx.namespaces.admission.preflight(
          namespaceIdParam((request.params as { ns: string }).ns),
          bearerToken(request.headers.authorization),
        );
      };
  }
}

/** Marks every route declared in `scope` (and its children) with the scope's name. */
function markRoutes(scope: FastifyInstance, name: ScopeName): void {
  scope.addHook('onRoute', (route) => {
    route.config = { ...route.config, [SCOPE_MARK]: name };
  });
}

/**
 * Declares every area's routes in their scopes. Called once by the server, after the parsers and
 * the error handling are installed on `app`.
 */
export function installScopes(app: FastifyInstance, ctx: RouteContext, areas: readonly HttpArea[]): void {
  const routes: Array<{ method: unknown; url: string; config?: unknown }> = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  // Runs once every plugin (scope) has registered its routes: a route without a scope is a bug.
  app.addHook('onReady', async () => {
    const outside = routes.filter((r) => routeScope(r.config) === undefined);
    if (outside.length > 0) {
      throw new Error(
        `routes declared outside an authorization scope: ${outside.map((r) => `${String(r.method)} ${r.url}`).join(', ')}`,
      );
    }
  });

  const readPaths = new Set<string>();
  for (const name of ['public', 'namespaceRead', 'writer', 'admin'] as const) {
    void app.register(async (scope) => {
      markRoutes(scope, name);
      if (name === 'public' || name === 'namespaceRead') allowCrossOriginReads(scope, readPaths);
      const hook = gate(name, ctx);
      if (hook) scope.addHook('onRequest', hook);
      for (const area of areas) area[name]?.(scope, ctx);
    });
  }
  // Registered after the scopes above, so every read path is known; public: a preflight is ungated.
  void app.register(async (scope) => {
    markRoutes(scope, 'public');
    preflightRoutes(scope, readPaths);
  });
  const federation = ctx.federation;
  if (federation) {
    peerScope(
      app,
      {
        registry: federation.registry,
        store: federation.store,
        self: ctx.nodeName,
        ...(federation.now ? { now: federation.now } : {}),
      },
      (scope) => {
        markRoutes(scope, 'peer');
        for (const area of areas) area.peer?.(scope, ctx);
      },
    );
  }
}
