import type { Logger } from 'pino';
import type { LeaseHolderInfo, SequencingLease } from '../storage/postgres/sequencing-lease.js';

/**
 * A front end of a node on PostgreSQL tries the sequencing lease once as it starts (issue 14):
 * holding it, it opens the node as the one that integrates and signs; otherwise it opens as a
 * follower — it serves appends and reads and forwards the rest — and competes for the lease from
 * then on (FrontEndRole). Told, and logged, who holds it then.
 */
export async function leaseAtStart(
  lease: SequencingLease,
  onStandby?: (holder: LeaseHolderInfo | undefined) => void,
  logger?: Logger,
): Promise<boolean> {
  if ((await lease.acquireOrRenew()) !== undefined) return true;
  const holder = await lease.current();
  logger?.info(
    { holder: holder?.holder, url: holder?.holderUrl },
    'following: another front end holds the sequencing lease; appends and reads are served here',
  );
  onStandby?.(holder);
  return false;
}
