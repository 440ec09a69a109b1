import { RemembrancerError } from '@vaultmesh/core';
import { BitcoinRpcError } from './bitcoin-rpc.js';

/*
 * Readers of the values in a bitcoind-compatible node's answers (Bitcoin Core, bcoin). An answer
 * of another shape is the node's failure (CHAIN_RPC_ERROR), never a value we guess at: what is
 * read here is signed, paid or reported as a chain's state.
 */

const HASH_HEX = /^[0-9a-fA-F]{64}$/;
const HEX = /^(?:[0-9a-fA-F]{2})*$/;
/** 21 million BTC in satoshis: no amount is larger, and it is a safe integer. */
const MAX_SATS = 2_100_000_000_000_000;
/** bitcoind's RPC_INVALID_ADDRESS_OR_KEY: an unknown transaction, block or key. */
const RPC_NOT_FOUND = -5;
/** JSON-RPC's "Method not found", as both bitcoind and bcoin answer an unknown method. */
const RPC_METHOD_NOT_FOUND = -32601;

function malformed(method: string, what: string): RemembrancerError {
  return new RemembrancerError('CHAIN_RPC_ERROR', `${method} answered ${what}`);
}

export function rpcObject(method: string, value: unknown, what = 'a result'): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(method, `${what} that is not an object`);
  }
  return value as Record<string, unknown>;
}

export function rpcArray(method: string, value: unknown, what = 'a result'): unknown[] {
  if (!Array.isArray(value)) throw malformed(method, `${what} that is not an array`);
  return value;
}

export function rpcString(method: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '') throw malformed(method, `${what} that is not a string`);
  return value;
}

/** A 32-byte hash in display hex, lower-cased as we compare and store them. */
export function rpcHash(method: string, value: unknown, what: string): string {
  if (typeof value !== 'string' || !HASH_HEX.test(value)) throw malformed(method, `${what} that is not a hash`);
  return value.toLowerCase();
}

export function rpcHex(method: string, value: unknown, what: string): Uint8Array {
  if (typeof value !== 'string' || !HEX.test(value)) throw malformed(method, `${what} that is not hex`);
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

export function rpcInteger(method: string, value: unknown, what: string, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw malformed(method, `${what} that is not an integer ≥ ${min}: ${JSON.stringify(value)?.slice(0, 40)}`);
  }
  return value;
}

/**
 * An amount in BTC as the RPC writes it (a JSON number with at most 8 decimals), in satoshis.
 * Rounding to the nearest satoshi undoes the binary fraction of the decimal; anything negative,
 * not finite or beyond 21 million BTC is not an amount.
 */
export function rpcSats(method: string, value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw malformed(method, `${what} that is not an amount`);
  const sats = Math.round(value * 1e8);
  if (sats < 0 || sats > MAX_SATS) throw malformed(method, `${what} out of range: ${value}`);
  return sats;
}

/** The node does not know the transaction, block or key asked for (bcoin answers -1 "… not found."). */
export function isRpcNotFound(e: unknown): boolean {
  if (!(e instanceof BitcoinRpcError)) return false;
  if (e.rpcCode === RPC_NOT_FOUND) return true;
  return e.rpcCode === -1 && /not found|not in mempool/i.test(e.message);
}

export function isRpcMethodNotFound(e: unknown): boolean {
  return e instanceof BitcoinRpcError && e.rpcCode === RPC_METHOD_NOT_FOUND;
}
