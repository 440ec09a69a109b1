import type { PgQueryable } from './pg-database.js';

/**
 * The fencing check of the sequencing lease (issue 14): several front ends of one node share a
 * database, and only the lease holder may do the node's singleton work (integration, checkpoint
 * signing, cosigning, anchoring, message delivery, cadence). Every write such work makes runs
 * `fence.check(tx)` inside its transaction, before its first write: the check reads the lease row
 * FOR SHARE and throws RemembrancerError LEASE_LOST unless this front end still holds the lease
 * with the token it was granted. A takeover updates that row (a new, larger token), so it waits
 * for writes holding the row FOR SHARE to commit, and every write of the old holder after it sees
 * the new token and fails: a stalled former holder (paused, partitioned) cannot write over its
 * successor, whatever its clock says.
 */
export interface WriteFence {
  check(tx: PgQueryable): Promise<void>;
}

/** For stores used by one process alone (a single front end, tools, tests): every write passes. */
export const NO_FENCE: WriteFence = { check: () => Promise.resolve() };
