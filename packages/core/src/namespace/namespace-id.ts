import { RemembrancerError } from '../errors.js';

/** `<tenant>:<name>`, lowercase; fixed by the HTTP API contract. */
export const NAMESPACE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}:[a-z0-9][a-z0-9-]{0,62}$/;

export function isNamespaceId(id: unknown): id is string {
  return typeof id === 'string' && NAMESPACE_ID_PATTERN.test(id);
}

export function assertNamespaceId(id: unknown): asserts id is string {
  if (!isNamespaceId(id)) {
    const shown = typeof id === 'string' ? JSON.stringify(id.slice(0, 140)) : typeof id;
    throw new RemembrancerError(
      'INVALID_NAMESPACE_ID',
      `invalid namespace id ${shown}: expected <tenant>:<name> matching ${NAMESPACE_ID_PATTERN.source}`,
    );
  }
}
