import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';

/**
 * A STORAGE_FAILURE saying what failed; a RemembrancerError cause passes through unchanged, so a
 * precise message (foreign database, newer schema, lost lease) is not buried under a generic one.
 * Shared by every backend (SQLite and PostgreSQL).
 */
export function storageFailure(what: string, cause: unknown): RemembrancerError {
  if (isRemembrancerError(cause)) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new RemembrancerError('STORAGE_FAILURE', `${what}: ${detail}`, { cause });
}
