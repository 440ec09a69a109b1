import { RemembrancerError, errorMessage } from '@vaultmesh/core';
import { HttpRequestError, ResponseBodyTooLargeError, RpcRequestError, TimeoutError } from 'viem';
import { getHttpRpcClient } from 'viem/utils';

export const DEFAULT_EVM_RPC_TIMEOUT_MS = 10_000;
/**
 * A block with its transaction hashes is tens of kilobytes, a raw transaction at most 128 KiB (the
 * geth pool's limit); an answer beyond this is not one we asked for.
 */
export const DEFAULT_EVM_RPC_MAX_RESPONSE_BYTES = 8 * 1024 * 1024;

/** What calls a node: the evidence and header builders need no more, so tests can hand them a fake. */
export interface EvmRpcCaller {
  call(method: string, params?: readonly unknown[]): Promise<unknown>;
}

export interface EvmRpc extends EvmRpcCaller {
  /** The endpoint, for messages. */
  readonly url: string;
}

export interface EvmRpcOptions {
  /** The node's JSON-RPC endpoint, e.g. `http://127.0.0.1:8545`. */
  url: string;
  /** Bound on one whole call, answer body included (default 10 s). */
  timeoutMs?: number;
  maxResponseBytes?: number;
  /** The fetch to use (default: the global one); tests inject their own. */
  fetch?: typeof globalThis.fetch;
}

/**
 * The node answered with a JSON-RPC error object. `rpcCode` and `rpcMessage` are the node's own
 * (geth's -32000 "nonce too low", anvil's -32003 "transaction already imported", -32601 for a
 * method it lacks), for callers that tell a refusal of one transaction from a broken node.
 */
export class EvmRpcError extends RemembrancerError {
  readonly rpcCode: number;
  readonly rpcMessage: string;

  constructor(where: string, rpcCode: number, rpcMessage: string) {
    super('CHAIN_RPC_ERROR', `${where} failed: ${rpcMessage.slice(0, 500)} (RPC error ${rpcCode})`);
    this.name = 'EvmRpcError';
    this.rpcCode = rpcCode;
    this.rpcMessage = rpcMessage;
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${String(value)}`);
  }
  return value;
}

function rpcErrorOf(error: unknown): { code: number; message: string } | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code !== 'number') return undefined;
  return { code, message: typeof message === 'string' ? message : JSON.stringify(error) };
}

/**
 * Maps what viem's HTTP client throws to our codes. A fetch that fails before any answer (refused,
 * reset, DNS) rejects with a TypeError, which viem wraps without a status: the node is
 * unreachable, as when it does not answer in time. An answer that arrives but is no JSON-RPC
 * answer (an HTTP error page, bad JSON, too large) is the node's error, not its absence.
 */
function mapFailure(cause: unknown, where: string, timeoutMs: number): RemembrancerError {
  if (cause instanceof RemembrancerError) return cause;
  if (cause instanceof TimeoutError) {
    return new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${where} did not answer within ${timeoutMs} ms`, { cause });
  }
  if (cause instanceof RpcRequestError) return new EvmRpcError(where, cause.code, cause.details);
  if (cause instanceof ResponseBodyTooLargeError) {
    return new RemembrancerError('CHAIN_RPC_ERROR', `${where} answered more than we read: ${cause.shortMessage}`, {
      cause,
    });
  }
  if (cause instanceof HttpRequestError) {
    if (cause.status !== undefined) {
      return new RemembrancerError('CHAIN_RPC_ERROR', `${where} answered HTTP ${cause.status}: ${cause.details}`, {
        cause,
      });
    }
    if (cause.cause instanceof TypeError) {
      return new RemembrancerError('CHAIN_RPC_UNREACHABLE', `${where} unreachable: ${errorMessage(cause.cause)}`, {
        cause,
      });
    }
    return new RemembrancerError('CHAIN_RPC_ERROR', `${where} answered badly: ${errorMessage(cause.cause)}`, { cause });
  }
  return new RemembrancerError('CHAIN_RPC_ERROR', `${where} failed: ${errorMessage(cause)}`, { cause });
}

/**
 * A JSON-RPC 2.0 client of an EVM node over HTTP(S), through viem's HTTP client (one POST per call,
 * no retries: the caller decides what to do again), each call bounded in time and size. Fails
 * with CHAIN_RPC_UNREACHABLE (no connection, no full answer within `timeoutMs`), CHAIN_RPC_ERROR
 * (an EvmRpcError for a JSON-RPC error answer; a plain one for an HTTP refusal or a malformed or
 * oversized answer), or INVALID_ARGUMENT for unusable options.
 */
export function evmRpc(options: EvmRpcOptions): EvmRpc {
  let target: URL;
  try {
    target = new URL(options.url);
  } catch (cause) {
    throw new RemembrancerError('INVALID_ARGUMENT', `RPC URL ${JSON.stringify(options.url)} is not a URL`, { cause });
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    throw new RemembrancerError('INVALID_ARGUMENT', `RPC URL ${target.href} is not http(s)`);
  }
  // The URL is printed in messages and logs; an API key in its path is the operator's choice, a password is not.
  if (target.password !== '') {
    throw new RemembrancerError('INVALID_ARGUMENT', 'the RPC URL must not carry a password');
  }
  const timeoutMs = positive('timeoutMs', options.timeoutMs, DEFAULT_EVM_RPC_TIMEOUT_MS);
  const maxBytes = positive('maxResponseBytes', options.maxResponseBytes, DEFAULT_EVM_RPC_MAX_RESPONSE_BYTES);
  const url = target.href;
  const client = getHttpRpcClient(url, {
    timeout: timeoutMs,
    maxResponseBodySize: maxBytes,
    // The endpoint is configured; a redirect elsewhere is not followed.
    fetchOptions: { redirect: 'manual' },
    ...(options.fetch === undefined ? {} : { fetchFn: options.fetch }),
  });

  async function call(method: string, params: readonly unknown[] = []): Promise<unknown> {
    const where = `RPC ${method} at ${url}`;
    let answer: { result?: unknown; error?: unknown };
    try {
      answer = await client.request({ body: { method, params: [...params] } });
    } catch (cause) {
      throw mapFailure(cause, where, timeoutMs);
    }
    if (answer.error !== undefined && answer.error !== null) {
      const e = rpcErrorOf(answer.error);
      if (e === undefined) throw new RemembrancerError('CHAIN_RPC_ERROR', `${where} answered a malformed error`);
      throw new EvmRpcError(where, e.code, e.message);
    }
    if (!('result' in answer)) throw new RemembrancerError('CHAIN_RPC_ERROR', `${where} answered without a result`);
    return answer.result;
  }

  return { url, call };
}
