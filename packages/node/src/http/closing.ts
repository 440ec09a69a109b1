import type { FastifyInstance } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';

/**
 * Once the server starts closing, requests that still arrive (pipelined, or on a keep-alive
 * connection) get 503 SHUTTING_DOWN with `Connection: close`, before any route work: a load
 * balancer retries them elsewhere. Requests already in progress finish.
 */
export function refuseWhileClosing(app: FastifyInstance): void {
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onRequest', async (_request, reply) => {
    if (!closing) return;
    reply.header('connection', 'close');
    throw new RemembrancerError('SHUTTING_DOWN', 'the node is shutting down');
  });
}
