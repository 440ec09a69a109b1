import { RemembrancerError } from '@vaultmesh/core';

/**
 * The rate part of a namespace's limits (structurally the `limits` of its policy): entries per
 * second and the bucket size. Both null: unlimited. The policy parser fills in burst =
 * max(1, ceil(rate)) when only the rate is given; a lone rate is treated the same way here.
 */
export interface RateLimits {
  rate_per_second: number | null;
  burst: number | null;
}

/** 429 with `Retry-After: retryAfterSeconds` (RFC 9110 §10.2.3, https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3). */
export class RateLimitedError extends RemembrancerError {
  /** Whole seconds until the refused request could pass (at least 1). */
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super('RATE_LIMITED', message);
    this.name = 'RateLimitedError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

interface Bucket {
  tokens: number;
  /** Clock reading the tokens were last brought up to date at. */
  at: number;
  rate: number;
  burst: number;
}

export interface RateLimiterOptions {
  /** Milliseconds of a monotonic clock (default performance.now); tests inject their own. */
  now?: () => number;
}

function checkLimits(limits: RateLimits): { rate: number; burst: number } | undefined {
  const rate = limits.rate_per_second;
  if (rate === null) return undefined;
  if (!Number.isFinite(rate) || rate <= 0) {
    throw new RemembrancerError(
      'INVALID_ARGUMENT',
      `rate_per_second must be a positive number or null, got ${String(rate)}`,
    );
  }
  const burst = limits.burst ?? Math.max(1, Math.ceil(rate));
  if (!Number.isSafeInteger(burst) || burst < 1) {
    throw new RemembrancerError('INVALID_ARGUMENT', `burst must be a positive integer, got ${String(burst)}`);
  }
  return { rate, burst };
}

function retryAfter(seconds: number): number {
  return Math.max(1, Math.ceil(seconds));
}

/**
 * Token buckets, one per namespace, created full on first use and refilled continuously at `rate`
 * tokens per second up to `burst`; a request costs one token per entry. Refill is computed from
 * the clock on each call, so there are no timers. Memory: one small record per namespace that
 * was ever limited (forget() drops it, e.g. when the namespace's limits are removed).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly now: () => number;

  constructor(options: RateLimiterOptions = {}) {
    this.now = options.now ?? (() => performance.now());
  }

  /**
   * Consumes `cost` tokens of the namespace's bucket, or throws RateLimitedError (code
   * RATE_LIMITED) and consumes nothing. `cost` counts entries (attacker-controlled through the
   * batch size; checked). Limits are read on every call, so a new policy applies at once: the
   * bucket keeps its tokens, capped at the new burst, and refills at the new rate from now on.
   */
  take(namespace: string, cost: number, limits: RateLimits, nowMs: number = this.now()): void {
    if (!Number.isSafeInteger(cost) || cost < 0) {
      throw new RemembrancerError('INVALID_ARGUMENT', `cost must be a non-negative integer, got ${String(cost)}`);
    }
    const l = checkLimits(limits);
    if (l === undefined) {
      this.buckets.delete(namespace);
      return;
    }
    let b = this.buckets.get(namespace);
    if (b === undefined) {
      b = { tokens: l.burst, at: nowMs, rate: l.rate, burst: l.burst };
      this.buckets.set(namespace, b);
    } else {
      // Tokens earned so far at the rate in force until now; a clock that steps back earns nothing.
      const elapsed = Math.max(0, nowMs - b.at) / 1000;
      b.tokens = Math.min(b.burst, b.tokens + elapsed * b.rate);
      b.at = Math.max(b.at, nowMs);
      b.rate = l.rate;
      b.burst = l.burst;
      b.tokens = Math.min(b.tokens, b.burst);
    }
    if (cost > b.burst) {
      throw new RateLimitedError(
        `namespace ${namespace} allows bursts of at most ${b.burst} entries (${b.rate} per second); ` +
          `a request of ${cost} entries can never pass: split it`,
        retryAfter(b.burst / b.rate),
      );
    }
    // Tolerance for float drift in the refill sum: a bucket refilled to 0.9999999999 holds one token.
    if (cost > b.tokens + 1e-9) {
      const wait = (cost - b.tokens) / b.rate;
      throw new RateLimitedError(
        `namespace ${namespace} is rate limited to ${b.rate} entries per second (burst ${b.burst}); ` +
          `${Math.floor(b.tokens)} available, ${cost} requested`,
        retryAfter(wait),
      );
    }
    b.tokens = Math.max(0, b.tokens - cost);
  }

  /** Drops the namespace's bucket (deleted namespace, or limits removed). */
  forget(namespace: string): void {
    this.buckets.delete(namespace);
  }
}
