import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import { readBoundedBody } from '../bounded-body.js';

export const DEFAULT_BITCOIN_RPC_TIMEOUT_MS = 10_000;
/**
 * A raw block is at most 4 MB, 8 MB as hex; a verbose block with its txids is smaller. An answer
 * larger than this is not one we asked for.
 */
export const DEFAULT_BITCOIN_RPC_MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** bitcoind ignores the user name when only an rpcauth password is checked; bcoin ignores it always. */
export const DEFAULT_BITCOIN_RPC_USER = 'x';

export interface BitcoinRpcOptions {
  /** The node's JSON-RPC endpoint, e.g. `http://127.0.0.1:8332/` (no credentials in it). */
  url: string;
  /** The HTTP basic-auth password: bitcoind's rpcpassword, bcoin's API key. */
  password: string;
  /** The basic-auth user name (default `x`). */
  user?: string;
  /** Bound on one whole call, answer body included (default 10 s). */
  timeoutMs?: number;
  /** Largest answer body read (default 16 MiB). */
  maxResponseBytes?: number;
  /** The fetch to use (default: the global one); tests inject their own. */
  fetch?: typeof globalThis.fetch;
}

/** What calls a node: the evidence builder needs no more, so tests can hand it a fake. */
export interface BitcoinRpcCaller {
  call(method: string, params?: readonly unknown[]): Promise<unknown>;
}

export interface BitcoinRpc extends BitcoinRpcCaller {
  /** The endpoint, for messages. */
  readonly url: string;
}

/**
 * The node answered with a JSON-RPC error object: `rpcCode` is its code (bitcoind's RPC_* values,
 * e.g. -5 for an unknown transaction or block, -8 for an invalid parameter), for callers that
 * treat "not found" differently from a broken node.
 */
export class BitcoinRpcError extends RemembrancerError {
  readonly rpcCode: number | undefined;

  constructor(message: string, rpcCode: number | undefined) {
    super('CHAIN_RPC_ERROR', message);
    this.name = 'BitcoinRpcError';
    this.rpcCode = rpcCode;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The answer of a call: its `result`, or the error it carries. bitcoind sends JSON-RPC errors
 * with HTTP 500 (404 for an unknown method), bcoin with 200, so the body decides whenever it is a
 * JSON-RPC answer, and the status only when it is not (401 for a wrong password has no body).
 */
function resultOf(status: number, text: string, id: number, where: string): unknown {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!isObject(body) || !('result' in body || 'error' in body)) {
    const what = status === 200 ? 'an answer that is not JSON-RPC' : `HTTP ${status}`;
    throw new BitcoinRpcError(`${where} answered ${what}: ${JSON.stringify(text.slice(0, 200))}`, undefined);
  }
  const error = body.error;
  if (error !== null && error !== undefined) {
    const code = isObject(error) && typeof error.code === 'number' ? error.code : undefined;
    const message = isObject(error) && typeof error.message === 'string' ? error.message : JSON.stringify(error);
    throw new BitcoinRpcError(`${where} failed: ${message.slice(0, 500)} (RPC error ${String(code)})`, code);
  }
  if (status !== 200) throw new BitcoinRpcError(`${where} answered HTTP ${status} without an error`, undefined);
  // A JSON-RPC 1.0 answer echoes the id; another id is someone else's answer.
  if (body.id !== id)
    throw new BitcoinRpcError(`${where} answered with id ${JSON.stringify(body.id)}, not ${id}`, undefined);
  if (!('result' in body)) throw new BitcoinRpcError(`${where} answered without a result`, undefined);
  return body.result;
}

/**
 * A client of a bitcoind-compatible JSON-RPC endpoint (Bitcoin Core, bcoin): each call is one
 * HTTP POST of a JSON-RPC 1.0 request `{method, params, id}` with basic auth, bounded in time and
 * size. Fails with CHAIN_RPC_UNREACHABLE (no connection, or no full answer within `timeoutMs`),
 * CHAIN_RPC_ERROR (a BitcoinRpcError: an error answer, an HTTP refusal such as 401, an answer that
 * is not JSON-RPC or too large), or INVALID_ARGUMENT for unusable options.
 */
export function bitcoinRpc(options: BitcoinRpcOptions): BitcoinRpc {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch (cause) {
    throw new RemembrancerError('INVALID_ARGUMENT', `RPC URL ${JSON.stringify(options.url)} is not a URL`, { cause });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new RemembrancerError('INVALID_ARGUMENT', `RPC URL ${target.href} is not http(s)`);
  }
  // fetch refuses them, and a URL is printed in messages: credentials go in options only.
  if (target.username !== '' || target.password !== '') {
    throw new RemembrancerError('INVALID_ARGUMENT', 'the RPC URL must not carry credentials; pass user and password');
  }
  const user = options.user ?? DEFAULT_BITCOIN_RPC_USER;
  if (user.includes(':')) throw new RemembrancerError('INVALID_ARGUMENT', 'an RPC user name cannot contain ":"');
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_BITCOIN_RPC_TIMEOUT_MS);
  const maxBytes = positive('maxResponseBytes', options.maxResponseBytes, DEFAULT_BITCOIN_RPC_MAX_RESPONSE_BYTES);
  const doFetch = options.fetch ?? globalThis.fetch;
  const authorization = `Basic ${Buffer.from(`${user}:${options.password}`, 'utf8').toString('base64')}`;
  const url = target.href;
  let nextId = 1;

  async function call(method: string, params: readonly unknown[] = []): Promise<unknown> {
    const id = nextId++;
    const where = `RPC ${method} at ${url}`;
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const res = await doFetch(url, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ method, params, id }),
        signal,
        // The endpoint is configured; a redirect elsewhere (with our credentials) is not followed.
        redirect: 'manual',
      });
      // Under the same signal: a node that sends headers and then stalls is as silent as one that never answers.
      const text = new TextDecoder().decode(await readBoundedBody(res, where, maxBytes, 'CHAIN_RPC_ERROR'));
      return resultOf(res.status, text, id, where);
    } catch (cause) {
      if (signal.aborted) {
        throw new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${where} did not answer within ${timeoutMs} ms`, {
          cause,
        });
      }
      if (cause instanceof RemembrancerError) throw cause;
      throw new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${where} unreachable: ${errorMessage(cause)}`, { cause });
    }
  }

  return { url, call };
}
