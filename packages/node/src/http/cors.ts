import type { FastifyInstance } from 'fastify';

/*
 * CORS for the public read API, so a page served by one node (the explorer) can read its peers.
 * Only GET and HEAD of the public and namespaceRead scopes answer cross-origin: writes, admin and
 * peer routes send no CORS header and have no preflight route, so a page of another origin can
 * neither read their answers nor send them a non-simple request. `*` is safe here because the API
 * has no ambient credentials (no cookies): a private namespace still needs a bearer token the
 * page itself holds, and answers 401/403 without one.
 */

/** Response headers a page may read besides the CORS-safelisted ones (what the read routes set). */
export const CORS_EXPOSED_HEADERS = [
  'X-Witness-Cosignatures',
  'X-Witnessed',
  'X-Sealed',
  'X-Anchored',
  'Retry-After',
  'Content-Disposition',
].join(', ');

/** Methods and request headers a preflight allows. */
const ALLOW_METHODS = 'GET, HEAD';
const ALLOW_HEADERS = 'Authorization, Accept';
/** How long a browser may cache a preflight answer, seconds. */
const PREFLIGHT_MAX_AGE_S = '600';

/**
 * In a read scope: every GET/HEAD answer (errors included) carries the CORS headers, and the
 * path of each GET route declared there is remembered for its preflight route. Installed before
 * the scope's gate, so a 401 of a private namespace can be read by the page that sent the token.
 */
export function allowCrossOriginReads(scope: FastifyInstance, readPaths: Set<string>): void {
  scope.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('GET')) readPaths.add(route.url);
  });
  scope.addHook('onRequest', async (request, reply) => {
    if (request.method === 'GET' || request.method === 'HEAD') {
      reply.header('access-control-allow-origin', '*').header('access-control-expose-headers', CORS_EXPOSED_HEADERS);
    }
  });
}

/**
 * OPTIONS preflight routes, one per remembered read path: 204 with the allowed methods and
 * headers. A preflight carries no credentials and reveals nothing, so these routes have no gate;
 * `scope` must be a context without one, registered after the read scopes declared their routes.
 */
export function preflightRoutes(scope: FastifyInstance, readPaths: ReadonlySet<string>): void {
  for (const url of readPaths) {
    scope.options(url, async (_request, reply) =>
      reply
        .status(204)
        .header('access-control-allow-origin', '*')
        .header('access-control-allow-methods', ALLOW_METHODS)
        .header('access-control-allow-headers', ALLOW_HEADERS)
        .header('access-control-max-age', PREFLIGHT_MAX_AGE_S)
        .send(),
    );
  }
}
