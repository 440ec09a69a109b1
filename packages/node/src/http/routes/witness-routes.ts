import type { FastifyInstance } from 'fastify';
import { MAX_WITNESS_BODY_BYTES } from '@vaultmesh/core';
import type { Witness } from '../../witness/witness.js';
import type { HttpArea } from '../scopes.js';

export interface WitnessRouteOptions {
  witness: Witness;
}

/**
 * C2SP tlog-witness over HTTP, with `/v1/witness` as both the submission and the monitoring
 * prefix: `POST /v1/witness/add-checkpoint` and `GET /v1/witness/<origin hash>/checkpoint`.
 * add-checkpoint carries no request authentication: the log signature on the checkpoint is the
 * authentication (https://c2sp.org/tlog-witness#introduction).
 *
 * Registered as an encapsulated plugin so its catch-all body parser never reaches the app's
 * strict JSON parser.
 */
export function witnessRoutes(app: FastifyInstance, options: WitnessRouteOptions): void {
  const { witness } = options;
  void app.register(async (child) => {
    // The spec defines no request Content-Type: take every body as raw bytes. Bytes, not a
    // string, so invalid UTF-8 is a 400 instead of being replaced with U+FFFD (which would only
    // surface later as a signature failure).
    child.removeAllContentTypeParsers();
    child.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: MAX_WITNESS_BODY_BYTES },
      (_request, body, done) => {
        done(null, body);
      },
    );

    child.post(
      '/v1/witness/add-checkpoint',
      {
        bodyLimit: MAX_WITNESS_BODY_BYTES,
        // Fastify answers 415 to an unparseable Content-Type header before any parser runs;
        // dropping the header makes "any content type" include broken ones.
        onRequest: async (request) => {
          delete request.raw.headers['content-type'];
        },
      },
      async (request, reply) => {
        const body = request.body instanceof Uint8Array ? request.body : new Uint8Array(0);
        const r = await witness.submitCheckpoint(body);
        return reply.status(r.status).type(r.contentType).send(r.body);
      },
    );

    child.get<{ Params: { originHex: string } }>('/v1/witness/:originHex/checkpoint', async (request, reply) => {
      const r = await witness.latestCheckpoint(request.params.originHex);
      return reply.status(r.status).type(r.contentType).send(r.body);
    });
  });
}

/** The witness in the public scope: a log's signature on the checkpoint is the authorization. */
export const witnessArea: HttpArea = {
  public(app, ctx) {
    if (ctx.witness) witnessRoutes(app, { witness: ctx.witness });
  },
};
