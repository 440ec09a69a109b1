import { RemembrancerError } from '@vaultmesh/core';

/** How long the outbox waits before trying a message again. */
export interface BackoffOptions {
  /** The bound of the first retry's wait, ms. */
  baseMs: number;
  /** The largest bound any retry waits within, ms. */
  capMs: number;
}

export const DEFAULT_BACKOFF: Readonly<BackoffOptions> = Object.freeze({ baseMs: 250, capMs: 30_000 });

/**
 * Exponential backoff with full jitter (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/):
 * after the n-th failed attempt (n ≥ 1) the wait is uniform in [0, min(cap, base·2^(n−1))). The
 * jitter keeps the senders of a federation from retrying in step after a partition heals; the
 * cap keeps a long outage from pushing the first attempt after it far out. `random` is in [0, 1)
 * (Math.random; tests give their own).
 */
export function retryDelayMs(attempts: number, options: BackoffOptions, random: () => number = Math.random): number {
  if (!Number.isSafeInteger(attempts) || attempts < 1)
    throw new RemembrancerError('INVALID_ARGUMENT', `attempts must be a positive integer, got ${String(attempts)}`);
  const { baseMs, capMs } = options;
  if (!(baseMs > 0) || !(capMs >= baseMs) || !Number.isFinite(capMs))
    throw new RemembrancerError('INVALID_ARGUMENT', 'backoff needs 0 < baseMs ≤ capMs, both finite');
  // 2^(n−1) overflows to Infinity for large n; min() with the cap keeps the bound finite.
  const bound = Math.min(capMs, baseMs * 2 ** Math.min(attempts - 1, 1024));
  const r = random();
  const unit = r >= 0 && r < 1 ? r : 0;
  return Math.floor(unit * bound);
}
