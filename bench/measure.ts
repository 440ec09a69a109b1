/** What every benchmark area exports as its default: measure, return metric key → number. */
export type Benchmark = (ctx: BenchContext) => Promise<BenchResults>;

export type BenchResults = Record<string, number>;

export interface BenchContext {
  /** --quick: small sizes, few repeats; the whole quick run must stay well under two minutes. */
  readonly quick: boolean;
  /** Metrics produced earlier in this run (for ratios across areas). */
  readonly results: Readonly<BenchResults>;
  /** Progress line on stderr. */
  log(message: string): void;
  /** A string fact about how the numbers were obtained, kept with the area's run record. */
  note(key: string, value: string): void;
}

export interface Timing {
  /** Seconds per run, in the order run. */
  readonly samples: readonly number[];
  readonly median: number;
  readonly best: number;
}

/**
 * Runs fn `warmup` times unmeasured (JIT, page faults of fresh buffers), then `repeats` times.
 * Rates are reported from the median so one lucky or unlucky run does not set the figure.
 */
export function time(fn: () => void, { repeats = 3, warmup = 1 }: { repeats?: number; warmup?: number } = {}): Timing {
  for (let i = 0; i < warmup; i++) fn();
  const samples: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    samples.push(Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { samples, median, best: sorted[0]! };
}

/** Items per second, rounded to a whole number. */
export function rate(items: number, seconds: number): number {
  return Math.round(items / seconds);
}

export function ratio(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined || b === undefined || b === 0) return undefined;
  return Math.round((a / b) * 100) / 100;
}
