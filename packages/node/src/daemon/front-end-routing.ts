import type { SequencingLease } from '../storage/postgres/sequencing-lease.js';
import type { FrontEndRouting } from '../http/front-end-proxy.js';

/** How long a front end trusts what it read of the lease holder's address, ms (a failover takes seconds). */
const HOLDER_CACHE_MS = 250;

/**
 * Where a follower forwards what only the lease holder serves (http/front-end-proxy.ts): the
 * address the holder advertised in the lease row, read at most every HOLDER_CACHE_MS. While this
 * front end is itself recorded as holder but not yet (or no longer) serving as one, there is
 * nowhere to forward: the request is answered 503 LEASE_LOST, which clients retry.
 */
export function leaseRouting(lease: SequencingLease, self: string, serving: () => boolean): FrontEndRouting {
  let cached: { url: string | undefined; until: number } | undefined;
  return {
    leading: serving,
    async leaderUrl() {
      const now = performance.now();
      if (cached === undefined || now >= cached.until) {
        const holder = await lease.current();
        // An expired grant, one not yet advertised, or this very front end: nobody to forward to.
        const elsewhere = holder !== undefined && holder.holder !== self && holder.expiresInMs > 0;
        const url = elsewhere && holder.holderUrl !== '' ? holder.holderUrl : undefined;
        cached = { url, until: now + HOLDER_CACHE_MS };
      }
      return cached.url;
    },
  };
}
