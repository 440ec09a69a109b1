import { RemembrancerError } from '@vaultmesh/core';
import { hexToBytes, type Hex } from 'viem';

/*
 * Readers of the values in an EVM node's JSON-RPC answers (https://ethereum.org/en/developers/docs/apis/json-rpc/#hex-encoding):
 * a QUANTITY is 0x and hex digits without leading zeros, DATA is 0x and an even number of hex
 * digits. An answer of another shape is the node's failure (CHAIN_RPC_ERROR), never a value we
 * guess at: what is read here ends up signed, paid for or in a proof.
 */

const QUANTITY = /^0x(?:0|[1-9a-fA-F][0-9a-fA-F]*)$/;
const DATA = /^0x(?:[0-9a-fA-F]{2})*$/;
/** A quantity longer than this (256 bits) is no EVM value. */
const MAX_QUANTITY_DIGITS = 64;

function malformed(method: string, what: string): RemembrancerError {
  return new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered ${what}`);
}

export function rpcObject(method: string, value: unknown, what = 'the result'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(method, `${what} that is not an object`);
  }
  return value as Record<string, unknown>;
}

export function rpcQuantity(method: string, value: unknown, what: string): bigint {
  if (typeof value !== 'string' || value.length > MAX_QUANTITY_DIGITS + 2 || !QUANTITY.test(value)) {
    throw malformed(method, `${what} that is not a hex quantity: ${JSON.stringify(value)?.slice(0, 80)}`);
  }
  return BigInt(value);
}

/** A quantity that must fit a JavaScript number exactly: block numbers, nonces, indexes. */
export function rpcSafeInteger(method: string, value: unknown, what: string): number {
  const n = rpcQuantity(method, value, what);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw malformed(method, `${what} beyond 2^53 - 1`);
  return Number(n);
}

export function rpcData(method: string, value: unknown, what: string, maxBytes: number): Uint8Array {
  if (typeof value !== 'string' || value.length > 2 + 2 * maxBytes || !DATA.test(value)) {
    throw malformed(method, `${what} that is not hex data of at most ${maxBytes} bytes`);
  }
  return hexToBytes(value as Hex);
}

/** A 32-byte hash, lower-cased `0x…` as we compare and store them. */
export function rpcHash(method: string, value: unknown, what: string): `0x${string}` {
  if (typeof value !== 'string' || !/^0x[0-9a-fA-F]{64}$/.test(value)) {
    throw malformed(method, `${what} that is not a 32-byte hash`);
  }
  return value.toLowerCase() as `0x${string}`;
}
