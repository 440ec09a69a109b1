import { RemembrancerError, assertNamespaceId, base64Decode } from '@vaultmesh/core';
import type { LogEngine, NamespaceRecord } from '../log/log-engine.js';

/**
 * Attacker-controlled path segment → a syntactically valid namespace id, or a 400. The router has
 * percent-decoded the segment already, exactly once: decoding it again would make `%253A` mean
 * `:` and throw on a lone `%`.
 */
export function namespaceIdParam(raw: string): string {
  assertNamespaceId(raw);
  return raw;
}

/** Attacker-controlled path segment → an existing namespace, or a 400/404 with a stable code. */
export function namespaceParam(engine: LogEngine, raw: string): NamespaceRecord {
  const id = namespaceIdParam(raw);
  const ns = engine.getNamespace(id);
  if (!ns) throw new RemembrancerError('NAMESPACE_NOT_FOUND', `namespace '${id}' does not exist`);
  return ns;
}

/** Attacker-controlled decimal → a non-negative safe integer; only canonical spellings ("0", "17"). */
export function indexParam(name: string, raw: unknown): number {
  if (typeof raw !== 'string' || !/^(0|[1-9][0-9]{0,15})$/.test(raw) || !Number.isSafeInteger(Number(raw))) {
    throw new RemembrancerError('INVALID_ARGUMENT', `${name} must be a non-negative decimal integer`);
  }
  return Number(raw);
}

/**
 * Attacker-controlled path segment → 32 hash bytes. Two spellings fit a URL path as they are:
 * lowercase hex (64 digits) or base64url (43 characters, padding '=' optional). Standard base64
 * does not: its '/' would split the path.
 */
export function hashParam(name: string, raw: string): Uint8Array {
  if (/^[0-9a-f]{64}$/.test(raw)) return new Uint8Array(Buffer.from(raw, 'hex'));
  if (/^[A-Za-z0-9_-]{43}=?$/.test(raw)) {
    try {
      const b64 = raw.replace(/-/g, '+').replace(/_/g, '/');
      return base64Decode(b64.endsWith('=') ? b64 : `${b64}=`);
    } catch {
      // Non-zero trailing bits: a second spelling of some hash, refused like any other.
    }
  }
  throw new RemembrancerError(
    'INVALID_ARGUMENT',
    `${name} must be 32 bytes as 64 lowercase hex digits or 43 base64url characters`,
  );
}
