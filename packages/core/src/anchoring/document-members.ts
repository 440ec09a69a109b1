import { base64Decode } from '../encoding/index.js';
import { isUtcTimestamp } from '../federation/timestamp.js';
import { base64OfLength, child, refuse, type JsonObject } from '../namespace/json-members.js';
import type { ErrorCode } from '../errors.js';

/*
 * Member checks the anchoring documents share beyond namespace/json-members.ts: each failure names
 * the member by its JSON pointer, and each check is the one the JSON Schema
 * (schemas/federation.receipt@1.0.0.json) states for that member.
 */

/** `o` has every member in `members` (objectWith already refused unknown ones). */
export function requireMembers(
  code: ErrorCode,
  o: JsonObject,
  pointer: string,
  members: readonly string[],
): JsonObject {
  for (const k of members) if (!Object.hasOwn(o, k)) refuse(code, child(pointer, k), 'is missing');
  return o;
}

/** A 32-byte hash in standard base64 (strict: one spelling per hash). */
export function base64Hash(code: ErrorCode, value: unknown, pointer: string): string {
  return base64OfLength(code, value, pointer, 32, 'a 32-byte hash');
}

/** A 64-byte Ed25519 signature in standard base64. */
export function base64Signature(code: ErrorCode, value: unknown, pointer: string): string {
  return base64OfLength(code, value, pointer, 64, 'a 64-byte Ed25519 signature');
}

/** Non-empty standard base64 (strict: one spelling per byte string), returned as given. */
export function strictBase64(code: ErrorCode, value: unknown, pointer: string, what: string): string {
  if (typeof value !== 'string' || value === '' || !isStrictBase64(value))
    refuse(code, pointer, `must be ${what} in standard base64`);
  return value;
}

function isStrictBase64(s: string): boolean {
  try {
    base64Decode(s);
    return true;
  } catch {
    return false;
  }
}

/** An RFC 3339 UTC timestamp as federation documents spell it (isUtcTimestamp). */
export function utcTimestamp(code: ErrorCode, value: unknown, pointer: string): string {
  if (!isUtcTimestamp(value)) refuse(code, pointer, 'must be an RFC 3339 UTC timestamp such as 2025-01-31T12:00:00Z');
  return value;
}

/** Whether `s` has at most `max` code points, as JSON Schema's maxLength counts (without building an array). */
export function codePointsAtMost(s: string, max: number): boolean {
  if (s.length <= max) return true;
  let n = 0;
  for (const _ of s) if (++n > max) return false;
  return true;
}
