/**
 * Rows a catch-up step reads before it yields to the event loop: a table lookup each, 5,000 took
 * up to ~100 ms at 1M messages (measured), so 2,000 keep a step near 40 ms.
 */
export const SETTLE_CHUNK_ROWS = 2000;

/** A stream's first `through` seqs, every one settled, counted by final state. */
export interface SettledPrefix<B extends string> {
  through: number;
  counts: Record<B, number>;
}

/**
 * Per stream, the counts of its settled prefix: the seqs 1..through, each in a final state. A
 * settled message never changes state again (outbox: delivered, refused, expired; inbox: applied,
 * refused), so a prefix once counted is never read again, and a stream's counts cost only the rows
 * after it. Shared by the outbox's and the inbox's stream counts (outbox/ and inbox/stream-counts.ts).
 */
export class SettledPrefixes<B extends string> {
  readonly #buckets: readonly B[];
  readonly #byStream = new Map<string, SettledPrefix<B>>();

  constructor(buckets: readonly B[]) {
    this.#buckets = buckets;
  }

  get(key: string): SettledPrefix<B> {
    let p = this.#byStream.get(key);
    if (p === undefined) {
      const counts = Object.fromEntries(this.#buckets.map((b) => [b, 0])) as Record<B, number>;
      this.#byStream.set(key, (p = { through: 0, counts }));
    }
    return p;
  }

  /**
   * Takes rows of the stream read in seq order after its prefix, while each is the next seq and
   * settled (`bucket` not undefined). Returns how many it took: fewer than given means the prefix
   * stopped at a message still in flight (or a seq not there).
   */
  absorb(key: string, rows: ReadonlyArray<{ seq: number; bucket: B | undefined }>): number {
    const p = this.get(key);
    let taken = 0;
    for (const r of rows) {
      if (r.bucket === undefined || r.seq !== p.through + 1) break;
      p.through = r.seq;
      p.counts[r.bucket]++;
      taken++;
    }
    return taken;
  }
}

/**
 * Runs `step` (one bounded read that returns whether more is left) until done,
 * yielding to the event loop between steps, so a first count over a long history never holds up
 * the node's requests and timers.
 */
export async function inSteps(step: () => boolean | Promise<boolean>): Promise<void> {
  while (await step()) await new Promise<void>((resolve) => setImmediate(resolve));
}
