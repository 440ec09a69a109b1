import type { FastifyInstance, FastifyRequest } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { NodeMetrics } from '../metrics/node-metrics.js';

/**
 * Bounds what the node holds of request bodies at once: how many are being received and their
 * total size. A body is counted from its first hook (before any byte of it is read) until its
 * response is sent or its connection closes, at its declared Content-Length, or at the route's
 * body limit when it is chunked (Fastify cuts it off there). Beyond either bound the request is
 * refused with 503 SERVER_BUSY before its body is read, so many clients each sending a large
 * body slowly cannot make the node buffer them all.
 */
export function boundInFlightBodies(
  app: FastifyInstance,
  limits: { maxInFlightBodies: number; maxInFlightBodyBytes: number },
  metrics?: NodeMetrics,
): void {
  let bodies = 0;
  let bytes = 0;
  app.addHook('onRequest', async (request: FastifyRequest, reply) => {
    const size = declaredBodySize(request);
    if (size === 0) return;
    if (bodies + 1 > limits.maxInFlightBodies || bytes + size > limits.maxInFlightBodyBytes) {
      metrics?.httpBusy.inc();
      throw new RemembrancerError(
        'SERVER_BUSY',
        `the node is receiving ${bodies} request bodies (${bytes} bytes) already; try again shortly`,
      );
    }
    bodies++;
    bytes += size;
    let released = false;
    // 'close' on the response fires once, whether it was sent or the client went away.
    reply.raw.once('close', () => {
      if (released) return;
      released = true;
      bodies--;
      bytes -= size;
    });
  });
}

/** The bytes a request's body may take: its Content-Length, or the route's limit for a chunked one. */
function declaredBodySize(request: FastifyRequest): number {
  if (request.method === 'GET' || request.method === 'HEAD') return 0;
  const limit = request.routeOptions.bodyLimit ?? 0;
  const length = request.headers['content-length'];
  if (length !== undefined) {
    const n = Number(length);
    // Node's parser has already refused a malformed or repeated Content-Length.
    return Number.isSafeInteger(n) && n >= 0 ? Math.min(n, limit) : limit;
  }
  return request.headers['transfer-encoding'] !== undefined ? limit : 0;
}
