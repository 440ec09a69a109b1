import { RemembrancerError } from '../errors.js';

/**
 * Integer arithmetic for tree sizes and indices up to 2^53 - 1. JavaScript's bitwise operators
 * truncate to 32 bits, so anything that may exceed 2^31 goes through Math.clz32 on the two 32-bit
 * halves, exact divisions by powers of two, and Math.floor. Every function here expects
 * non-negative safe integers; callers validate first.
 */

const TWO_32 = 4294967296;

/** POW2[k] = 2^k for k = 0..53, exact as doubles. */
export const POW2: readonly number[] = Array.from({ length: 54 }, (_, k) => 2 ** k);

/** Number of bits needed to write x (0 for 0). */
export function bitLength(x: number): number {
  if (x < TWO_32) return 32 - Math.clz32(x);
  return 64 - Math.clz32(Math.floor(x / TWO_32));
}

function popCount32(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/** Number of set bits of x. */
export function popCount(x: number): number {
  if (x < TWO_32) return popCount32(x >>> 0);
  return popCount32(x >>> 0) + popCount32(Math.floor(x / TWO_32));
}

/** a XOR b for values above 2^32 too (`x >>> 0` is x mod 2^32, exact for safe integers). */
export function xor(a: number, b: number): number {
  const lo = ((a >>> 0) ^ (b >>> 0)) >>> 0;
  if (a < TWO_32 && b < TWO_32) return lo;
  const hi = (Math.floor(a / TWO_32) ^ Math.floor(b / TWO_32)) >>> 0;
  return hi * TWO_32 + lo;
}

/** Number of trailing zero bits of x > 0. */
export function trailingZeros(x: number): number {
  const lo = x >>> 0;
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  const hi = Math.floor(x / TWO_32);
  return 63 - Math.clz32(hi & -hi);
}

/** floor(x / 2^k). */
export function shiftRight(x: number, k: number): number {
  return Math.floor(x / POW2[k]!);
}

/** Largest power of two strictly below n, for n >= 2 (the split point k of RFC 9162 §2.1.1). */
export function splitPoint(n: number): number {
  return POW2[bitLength(n - 1) - 1]!;
}

export function isPowerOfTwo(x: number): boolean {
  return x > 0 && POW2[trailingZeros(x)] === x;
}

/** Sizes and indices are attacker-controlled in proofs and requests: only non-negative safe integers. */
export function checkCount(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `${name} must be a non-negative safe integer, got ${String(value)}`,
    );
  }
}
