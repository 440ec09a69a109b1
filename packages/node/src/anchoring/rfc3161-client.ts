import {
  RemembrancerError,
  buildTimestampRequest,
  errorMessage,
  randomNonce,
  verifyTimestampResponse,
  type VerifiedTimestamp,
} from '@vaultmesh/core';
import { readBoundedBody } from './bounded-body.js';

/** Media types of RFC 3161 §3.4 (https://www.rfc-editor.org/rfc/rfc3161#section-3.4). */
export const TIMESTAMP_QUERY_TYPE = 'application/timestamp-query';
export const TIMESTAMP_REPLY_TYPE = 'application/timestamp-reply';

/** A TimeStampResp is a few kilobytes; a TSA that sends more is broken or hostile. */
export const DEFAULT_MAX_TSA_RESPONSE_BYTES = 64 * 1024;
export const DEFAULT_TSA_TIMEOUT_MS = 10_000;
/** How far genTime may be from this node's clock (before the request, after the answer). */
export const DEFAULT_GEN_TIME_WINDOW_MS = 5 * 60_000;

export interface RequestTimestampOptions {
  /** PEM CA certificates the TSA certificate must chain to. */
  trustAnchorsPem: readonly string[];
  /** The TSA policy to ask for and require (dotted decimal). */
  policyOid?: string;
  /** Bound on the whole exchange, reply body included (default 10 s). */
  timeoutMs?: number;
  /** Largest reply body read (default 64 KiB). */
  maxResponseBytes?: number;
  /** genTime must lie within this many ms before the request and after the reply (default 5 min). */
  genTimeWindowMs?: number;
  /** The fetch to use (default: the global one); tests inject their own. */
  fetch?: typeof globalThis.fetch;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

/** The media type of a Content-Type value, lower-cased and without parameters. */
function mediaType(value: string | null): string {
  return (value ?? '').split(';')[0]!.trim().toLowerCase();
}

/**
 * Asks the TSA at `url` to time-stamp `digest` (SHA-256, 32 bytes) over HTTP as RFC 3161 §3.4
 * says: a POST of the DER TimeStampReq as `application/timestamp-query`, answered by 200 with the
 * DER TimeStampResp as `application/timestamp-reply`. The request carries a fresh random nonce
 * and certReq; the response is verified completely (verifyTimestampResponse), including the nonce
 * and genTime within `genTimeWindowMs` of this exchange.
 *
 * Fails with TSA_UNREACHABLE (no connection), TSA_TIMEOUT (no full answer in time),
 * TSA_HTTP_ERROR (another status or media type; the message has them), TSA_RESPONSE_TOO_LARGE,
 * the TIMESTAMP_* code of the check a response fails, or INVALID_ARGUMENT for unusable options.
 */
export async function requestTimestamp(
  url: string,
  digest: Uint8Array,
  options: RequestTimestampOptions,
): Promise<VerifiedTimestamp> {
  let target: URL;
  try {
    target = new URL(url);
  } catch (cause) {
    throw new RemembrancerError('INVALID_ARGUMENT', `TSA URL ${JSON.stringify(url)} is not a URL`, { cause });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new RemembrancerError('INVALID_ARGUMENT', `TSA URL ${url} is not http(s)`);
  }
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_TSA_TIMEOUT_MS);
  const maxBytes = positive('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_TSA_RESPONSE_BYTES);
  const windowMs = positive('genTimeWindowMs', options.genTimeWindowMs, DEFAULT_GEN_TIME_WINDOW_MS);
  const doFetch = options.fetch ?? globalThis.fetch;

  const nonce = randomNonce();
  const query = buildTimestampRequest({
    digest,
    nonce,
    ...(options.policyOid === undefined ? {} : { policyOid: options.policyOid }),
  });
  const startedMs = Date.now();
  const signal = AbortSignal.timeout(timeoutMs);
  let body: Uint8Array;
  try {
    const res = await doFetch(target, {
      method: 'POST',
      headers: { 'content-type': TIMESTAMP_QUERY_TYPE, accept: TIMESTAMP_REPLY_TYPE },
      body: query,
      signal,
      // A TSA URL is configured; a redirect elsewhere is an answer we do not take.
      redirect: 'manual',
    });
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => undefined);
      throw new RemembrancerError('TSA_HTTP_ERROR', `TSA ${url} answered HTTP ${res.status}`);
    }
    const type = mediaType(res.headers.get('content-type'));
    if (type !== TIMESTAMP_REPLY_TYPE) {
      await res.body?.cancel().catch(() => undefined);
      throw new RemembrancerError(
        'TSA_HTTP_ERROR',
        `TSA ${url} answered HTTP 200 with content type ${JSON.stringify(type.slice(0, 100))}, not ${TIMESTAMP_REPLY_TYPE}`,
      );
    }
    // Under the same signal: a TSA that sends headers and then stalls is as silent as one that never answers.
    body = await readBoundedBody(res, `TSA ${url}`, maxBytes, 'TSA_RESPONSE_TOO_LARGE');
  } catch (cause) {
    if (signal.aborted) {
      throw new RemembrancerError('TSA_TIMEOUT', `TSA ${url} did not answer within ${timeoutMs} ms`, { cause });
    }
    if (cause instanceof RemembrancerError) throw cause;
    throw new RemembrancerError('TSA_UNREACHABLE', `TSA ${url} unreachable: ${errorMessage(cause)}`, { cause });
  }
  return verifyTimestampResponse(body, {
    digest,
    nonce,
    trustAnchorsPem: options.trustAnchorsPem,
    ...(options.policyOid === undefined ? {} : { policyOid: options.policyOid }),
    genTimeWindow: { notBeforeMs: startedMs - windowMs, notAfterMs: Date.now() + windowMs },
  });
}
