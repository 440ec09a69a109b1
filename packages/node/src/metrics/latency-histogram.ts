/** Each bucket is this much wider than the one below: a quantile read from it is within ±2.5 %. */
const GROWTH = 1.05;
/** Latencies at or below 1 ms share the first bucket; the last one takes everything from ~12 days up. */
const BUCKETS = 400;
const LOG_GROWTH = Math.log(GROWTH);

/**
 * Latencies of one sampling interval in fixed log-width buckets: O(1) per observation and a fixed
 * size however many checkpoints an interval sees (a node with thousands of namespaces signs
 * thousands a second), where keeping every value to sort would grow with the load.
 */
export class LatencyHistogram {
  readonly #counts = new Uint32Array(BUCKETS);
  #count = 0;
  #max = 0;

  get count(): number {
    return this.#count;
  }

  observe(ms: number): void {
    const v = Math.max(0, ms);
    const i = v <= 1 ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(v) / LOG_GROWTH));
    this.#counts[i]!++;
    this.#count++;
    if (v > this.#max) this.#max = v;
  }

  /** The exact largest value observed, or null before any. */
  max(): number | null {
    return this.#count === 0 ? null : this.#max;
  }

  /**
   * The q-quantile (0 < q ≤ 1) as its bucket's upper bound, never above the exact maximum (so a
   * single observation reads back as itself); null before any observation.
   */
  quantile(q: number): number | null {
    if (this.#count === 0) return null;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= rank) return Math.min(i === 0 ? 1 : GROWTH ** i, this.#max);
    }
    return this.#max;
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#max = 0;
  }
}
