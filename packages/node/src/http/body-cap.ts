import { Transform, pipeline, type TransformCallback } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';

function tooLarge(limit: number): RemembrancerError {
  return new RemembrancerError('PAYLOAD_TOO_LARGE', `this request may carry at most ${limit} bytes of body`);
}

/**
 * A preParsing hook that reads at most `limit(request)` bytes of the body (undefined: the route's
 * own limit applies alone). Declared lengths over it are refused before reading; a chunked body
 * is cut off as soon as it passes it.
 */
export function capBody(limit: (request: FastifyRequest) => number | undefined) {
  return async (
    request: FastifyRequest,
    _reply: FastifyReply,
    payload: NodeJS.ReadableStream,
  ): Promise<NodeJS.ReadableStream> => {
    const max = limit(request);
    if (max === undefined) return payload;
    const declared = Number(request.headers['content-length']);
    if (Number.isFinite(declared) && declared > max) throw tooLarge(max);
    let seen = 0;
    const counted = new Transform({
      transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback) {
        seen += chunk.length;
        if (seen > max) done(tooLarge(max));
        else done(null, chunk);
      },
    });
    // pipeline, not pipe: a client that goes away mid-body must end the parse with an error too.
    return pipeline(payload, counted, () => undefined);
  };
}
