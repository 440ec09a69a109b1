import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { RemembrancerError } from '@vaultmesh/core';
import type { NodeMetrics } from '../metrics/node-metrics.js';
import { httpStatusFor } from './error-status.js';

/*
 * Every error the server can send is `{"code", "message"}` with a stable code: ours, Fastify's
 * (body parsing, limits, content types, bad URLs: frameworkErrorHandler), and Node's HTTP
 * parser's, which answers on the raw socket before any route runs (clientErrorHandler).
 */

// Fastify's own errors translated into our stable codes.
const FASTIFY_CODES: Record<string, { code: string; status: number }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'PAYLOAD_TOO_LARGE', status: 413 },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'UNSUPPORTED_MEDIA_TYPE', status: 415 },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'BAD_REQUEST', status: 400 },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'INVALID_JSON', status: 400 },
  FST_ERR_VALIDATION: { code: 'INVALID_ARGUMENT', status: 400 },
  FST_ERR_BAD_URL: { code: 'INVALID_URL', status: 400 },
  FST_ERR_MAX_PARAM_LENGTH: { code: 'URI_TOO_LONG', status: 414 },
};

// Answers, not faults of the node: pushback, shutting down, a tenant's full quota, shed load.
const QUIET_5XX = new Set(['QUEUE_FULL', 'SHUTTING_DOWN', 'QUOTA_EXCEEDED', 'SERVER_BUSY']);

/** Seconds a client should wait before retrying after pushback. */
export const RETRY_AFTER_SECONDS = 1;

function classify(error: FastifyError | RemembrancerError | Error): { code: string; status: number } {
  if (error instanceof RemembrancerError) return { code: error.code, status: httpStatusFor(error.code) };
  if ('code' in error && typeof error.code === 'string' && FASTIFY_CODES[error.code]) return FASTIFY_CODES[error.code]!;
  if (
    'statusCode' in error &&
    typeof error.statusCode === 'number' &&
    error.statusCode >= 400 &&
    error.statusCode < 500
  ) {
    return { code: 'INVALID_ARGUMENT', status: error.statusCode };
  }
  return { code: 'INTERNAL', status: 500 };
}

function sendError(
  error: FastifyError | RemembrancerError | Error,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const { code, status } = classify(error);
  if (status >= 500 && !QUIET_5XX.has(code)) request.log.error({ err: error }, 'request failed');
  // Pushback says when to come back: a rate limit knows exactly, a full queue soon.
  const retryAfter = (error as { retryAfterSeconds?: unknown }).retryAfterSeconds;
  if (typeof retryAfter === 'number' && Number.isFinite(retryAfter))
    reply.header('retry-after', String(Math.max(1, Math.ceil(retryAfter))));
  else if (status === 503 || status === 429) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  const message = status === 500 && code === 'INTERNAL' ? 'internal error' : error.message;
  // A JSON pointer says which member of the submitted document was refused (schemas, policies).
  const pointer = error instanceof RemembrancerError ? error.pointer : undefined;
  void reply
    .status(status)
    .type('application/json; charset=utf-8')
    .send(pointer === undefined ? { code, message } : { code, message, pointer });
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler(sendError);
  app.setNotFoundHandler((request, reply) => {
    void reply
      .status(404)
      .send({ code: 'NOT_FOUND', message: `no route for ${request.method} ${request.url.split('?')[0]}` });
  });
}

/** Fastify's `frameworkErrors` option: errors raised before a route is found (bad URL, over-long parameter). */
export function frameworkErrorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  sendError(error, request, reply);
}

// Node's HTTP parser and connection checks: what it refuses never reaches Fastify's router.
const CLIENT_ERRORS: Record<string, { code: string; status: number; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { code: 'REQUEST_TIMEOUT', status: 408, message: 'the request did not arrive in time' },
  HPE_HEADER_OVERFLOW: {
    code: 'HEADERS_TOO_LARGE',
    status: 431,
    message: 'the request line and headers are too large',
  },
  HPE_UNEXPECTED_CONTENT_LENGTH: {
    code: 'BAD_REQUEST',
    status: 400,
    message: 'conflicting Content-Length or Transfer-Encoding headers',
  },
};
const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * Fastify's `clientErrorHandler` option (Node's 'clientError' event): answers a request the HTTP
 * parser refused with our error shape, then closes the connection (the parser's state is lost).
 */
export function clientErrorHandler(metrics?: NodeMetrics) {
  return (error: Error & { code?: string }, socket: Socket): void => {
    // A reset connection has no one left to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    const known = error.code !== undefined ? CLIENT_ERRORS[error.code] : undefined;
    const { code, status, message } = known ?? {
      code: 'BAD_REQUEST',
      status: 400,
      message: `malformed HTTP request (${error.code ?? 'parse error'})`,
    };
    metrics?.httpClientErrors.inc({ code });
    const body = JSON.stringify({ code, message });
    if (socket.writable) {
      socket.write(
        `HTTP/1.1 ${status} ${STATUS_TEXT[status]}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    socket.destroy();
  };
}
