import { RemembrancerError, isRemembrancerError } from '@vaultmesh/core';
import type { WriteFence } from '../../src/storage/postgres/write-fence.js';

/** An assert.rejects predicate: the error is a RemembrancerError with this code. */
export const code =
  (expected: string) =>
  (e: unknown): boolean =>
    isRemembrancerError(e) && e.code === expected;

/** A fence whose lease is lost: every write transaction it guards fails LEASE_LOST. */
export const LOST_LEASE: WriteFence = {
  check: () => Promise.reject(new RemembrancerError('LEASE_LOST', 'lease taken over')),
};
