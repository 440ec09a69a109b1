import type { FastifyError, FastifyInstance } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import { httpStatusFor } from './error-status.js';

// Fastify's own errors (body parsing, limits, content types) translated into our stable codes.
const FASTIFY_CODES: Record<string, { code: string; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_ARGUMENT', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  FST_ERR_VALIDATION: { code: 'INVALID_ARGUMENT', status: 400 },
};

/** Seconds a client should wait before retrying after pushback. */
export const RETRY_AFTER_SECONDS = 1;

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | RemembrancerError | Error, request, reply) => {
    let code: string;
    let status: number;
    if (error instanceof RemembrancerError) {
      code = error.code;
      status = httpStatusFor(code);
    } else if ('code' in error && typeof error.code === 'string' && FASTIFY_CODES[error.code]) {
      ({ code, status } = FASTIFY_CODES[error.code]!);
    } else if ('statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500) {
      code = 'INVALID_ARGUMENT';
      status = error.statusCode;
    } else {
      code = 'INTERNAL';
      status = 500;
    }
    // Pushback and a tenant's full quota are answers, not faults of the node.
    if (status >= 500 && code !== 'QUEUE_FULL' && code !== 'SHUTTING_DOWN' && code !== 'QUOTA_EXCEEDED') {
      request.log.error({ err: error }, 'request failed');
    }
    // Pushback says when to come back: a rate limit knows exactly, a full queue soon.
    const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === 'number' && Number.isFinite(retryAfter)) reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
    else if (status === 503 || status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
    const message = status === 500 && code === 'INTERNAL' ? 'internal error' : error.message;
    // A JSON pointer says which member of the submitted document was refused (schemas, policies).
    const pointer = error instanceof RemembrancerError ? error.pointer : undefined;
    void reply
      .status(status)
      .type('application/json; charset=utf-8')
      .send(pointer === undefined ? { code, message } : { code, message, pointer });
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}
