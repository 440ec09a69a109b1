import type { Logger } from 'pino';
import type { LeaseHolderInfo, SequencingLease } from '../storage/postgres/sequencing-lease.js';

/**
 * A front end of a node on PostgreSQL runs the node while it holds the sequencing lease (issue
 * 14): until then it stands by, trying every quarter of the lease's length, and takes over as
 * soon as the holder gives the lease up or stops renewing it. Told once that it stands by (and
 * by whom it is held).
 */
export async function waitForLease(
  lease: SequencingLease,
  onStandby?: (holder: LeaseHolderInfo | undefined) => void,
  logger?: Logger,
): Promise<void> {
  let told = false;
  for (;;) {
    if ((await lease.acquireOrRenew()) !== undefined) return;
    if (!told) {
      told = true;
      const holder = await lease.current();
      logger?.info(
        { holder: holder?.holder, url: holder?.holderUrl },
        'standing by: another front end holds the lease',
      );
      onStandby?.(holder);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.max(25, Math.floor(lease.ttlMs / 4))));
  }
}
