import { RemembrancerError, pointerToken, type ErrorCode } from '../errors.js';
import { base64Decode } from '../encoding/index.js';

/*
 * Small checks for documents that arrive over the wire (namespace specs, governance entries): each
 * failure names the member by its RFC 6901 JSON pointer, so an operator sees exactly what to fix.
 */

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function refuse(code: ErrorCode, pointer: string, why: string): never {
  throw new RemembrancerError(code, `${pointer || '/'}: ${why}`, { pointer });
}

export function child(pointer: string, token: string | number): string {
  return `${pointer}/${pointerToken(token)}`;
}

/** The object at `pointer`, refusing members not in `allowed` (signed documents carry no unknown members). */
export function objectWith(code: ErrorCode, value: unknown, pointer: string, allowed: readonly string[]): JsonObject {
  if (!isObject(value)) refuse(code, pointer, 'must be a JSON object');
  for (const k of Object.keys(value)) {
    if (!allowed.includes(k)) refuse(code, child(pointer, k), `unknown member; expected ${allowed.join(', ')}`);
  }
  return value;
}

export function integerIn(code: ErrorCode, value: unknown, pointer: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    refuse(code, pointer, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function stringMatching(
  code: ErrorCode,
  value: unknown,
  pointer: string,
  pattern: RegExp,
  what: string,
): string {
  if (typeof value !== 'string' || !pattern.test(value)) refuse(code, pointer, `must be ${what}`);
  return value;
}

export function arrayOf<T>(
  code: ErrorCode,
  value: unknown,
  pointer: string,
  max: number,
  item: (v: unknown, p: string) => T,
): T[] {
  if (!Array.isArray(value)) refuse(code, pointer, 'must be an array');
  if (value.length > max) refuse(code, pointer, `has ${value.length} items; at most ${max} are allowed`);
  return value.map((v, i) => item(v, child(pointer, i)));
}

/** A base64 string that decodes to exactly `length` bytes (keys, signatures); returned as given. */
export function base64OfLength(code: ErrorCode, value: unknown, pointer: string, length: number, what: string): string {
  let raw: Uint8Array | undefined;
  try {
    raw = typeof value === 'string' ? base64Decode(value) : undefined;
  } catch {
    raw = undefined;
  }
  if (raw?.length !== length) refuse(code, pointer, `must be the base64 of ${what}`);
  return value as string;
}
