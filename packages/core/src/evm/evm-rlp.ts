import { RLP } from '@ethereumjs/rlp';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { RemembrancerError, errorMessage, type ErrorCode } from '../errors.js';

/** A decoded RLP item: a byte string, or a list of items. */
export type RlpItem = Uint8Array | RlpItem[];

/** Keccak-256 (the pre-standard SHA-3 padding Ethereum uses, not FIPS 202 SHA3-256). */
export function keccak256(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}

/**
 * One whole RLP item of `bytes`, as @ethereumjs/rlp decodes it (it refuses non-canonical lengths,
 * single bytes below 0x80 wrapped in a prefix, and trailing bytes). Its errors are plain Errors
 * (and a RangeError for nesting deeper than the stack): every one becomes `code` here, so callers
 * meet only RemembrancerErrors. Callers bound the input's length first: decoding copies each
 * nested list, so hostile nesting costs time quadratic in the length.
 */
export function decodeRlp(bytes: Uint8Array, what: string, code: ErrorCode = 'EVM_MALFORMED'): RlpItem {
  if (!(bytes instanceof Uint8Array)) throw new RemembrancerError(code, `${what} must be bytes`);
  // The library decodes empty input as an empty string; an empty encoding is no item at all.
  if (bytes.length === 0) throw new RemembrancerError(code, `${what} is empty`);
  try {
    return RLP.decode(bytes);
  } catch (e) {
    throw new RemembrancerError(code, `${what} is not one RLP item: ${errorMessage(e)}`, { cause: e });
  }
}

export function rlpEncode(item: RlpItem): Uint8Array {
  return RLP.encode(item);
}

export function rlpList(item: RlpItem | undefined, what: string, code: ErrorCode = 'EVM_MALFORMED'): RlpItem[] {
  if (!Array.isArray(item)) throw new RemembrancerError(code, `${what} must be an RLP list`);
  return item;
}

export function rlpBytes(item: RlpItem | undefined, what: string, code: ErrorCode = 'EVM_MALFORMED'): Uint8Array {
  if (!(item instanceof Uint8Array)) throw new RemembrancerError(code, `${what} must be an RLP byte string`);
  return item;
}

/** A byte string of exactly `length` bytes (hashes, addresses, the bloom). */
export function rlpFixed(item: RlpItem | undefined, length: number, what: string): Uint8Array {
  const bytes = rlpBytes(item, what);
  if (bytes.length !== length) {
    throw new RemembrancerError('EVM_MALFORMED', `${what} is ${length} bytes, got ${bytes.length}`);
  }
  return bytes;
}

/**
 * An unsigned integer as Ethereum serializes it: big-endian, no leading zero byte, zero as the
 * empty string. A leading zero would be a second encoding of the same number, so it is refused.
 */
export function rlpUint(item: RlpItem | undefined, what: string, maxBytes = 32): bigint {
  const bytes = rlpBytes(item, what);
  if (bytes.length > maxBytes) throw new RemembrancerError('EVM_MALFORMED', `${what} is over ${maxBytes} bytes`);
  if (bytes[0] === 0) throw new RemembrancerError('EVM_MALFORMED', `${what} has a leading zero byte`);
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

/** An unsigned integer that must also be a safe JavaScript number (block numbers, timestamps). */
export function rlpSafeInteger(item: RlpItem | undefined, what: string): number {
  const value = rlpUint(item, what, 8);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RemembrancerError('EVM_MALFORMED', `${what} is beyond 2^53 - 1`);
  }
  return Number(value);
}
