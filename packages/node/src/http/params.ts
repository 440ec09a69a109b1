import { RemembrancerError, assertNamespaceId } from '@vaultmesh/core';
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
