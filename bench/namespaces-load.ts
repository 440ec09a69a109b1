// Load and latency helpers of the namespaces area: autocannon runs against a node on loopback and
// sequential request timing. Every loop here is bounded by a duration or a count.
import os from 'node:os';
import autocannon from 'autocannon';

export function runLoad(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

/**
 * A warm-up run (unmeasured: the JIT compiles the request path) then a measured one; throws if
 * any request was refused, so a misconfigured rule never passes for a fast one.
 */
export async function measuredLoad(
  opts: autocannon.Options,
  warmupSeconds: number,
  seconds: number,
  what: string,
): Promise<autocannon.Result> {
  const warm = await runLoad({ ...opts, duration: warmupSeconds });
  if (warm.non2xx > 0 || warm.errors > 0)
    throw new Error(`${what}: warm-up had ${warm.non2xx} non-2xx and ${warm.errors} errors`);
  const result = await runLoad({ ...opts, duration: seconds });
  if (result.non2xx > 0 || result.errors > 0)
    throw new Error(`${what}: load had ${result.non2xx} non-2xx and ${result.errors} errors`);
  return result;
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Latency {
  p50: number;
  p99: number;
  samples: number;
}

/** p50 and p99 of latency samples in ms (rounded to µs). */
export function summarize(samples: readonly number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: round(percentile(sorted, 50), 3), p99: round(percentile(sorted, 99), 3), samples: sorted.length };
}

/**
 * Client-side latency of `count` sequential GETs over one keep-alive connection (fetch), after
 * `warmup` unmeasured ones. `url(i)` picks the i-th request's URL; every answer must be 200.
 */
export async function sequentialLatency(
  url: (i: number) => string,
  count: number,
  warmup: number,
  headers: Record<string, string> = {},
): Promise<Latency & { all: number[] }> {
  const samples: number[] = [];
  for (let i = 0; i < warmup + count; i++) {
    const target = url(i);
    const t0 = performance.now();
    const res = await fetch(target, { headers, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    const ms = performance.now() - t0;
    if (res.status !== 200) throw new Error(`GET ${target} answered ${res.status}`);
    if (i >= warmup) samples.push(ms);
  }
  return { ...summarize(samples), all: samples };
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The 1-minute load average, for the run's notes: this 2-core machine is shared. */
export function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
}
