import { CheckpointProbe, type ProbedEngine } from './checkpoint-probe.js';
import type { NodeMetrics } from './node-metrics.js';
import { SeriesRing } from './series-ring.js';

/** One sample every 10 s, 360 of them: the last hour. */
export const DEFAULT_SERIES_INTERVAL_MS = 10_000;
export const DEFAULT_SERIES_CAPACITY = 360;
/** How often the checkpoint probe looks: the resolution of the checkpoint latency. */
export const DEFAULT_SERIES_PROBE_MS = 100;

/**
 * What the series reads of GET /v1/anchoring/status (AnchoringStatus has it), spelled out because
 * metrics/ sits below anchoring/ in the layers.
 */
export interface AnchoringLagSource {
  targets: ReadonlyArray<{ target: string; epoch_ms: number; last_finalized: { age_ms: number } | null }>;
}

export interface NodeSeriesOptions {
  engine: ProbedEngine;
  /** Cosigning rounds are read off its `cosignRound` histogram (no second hook in the cosigner). */
  metrics?: NodeMetrics;
  /** The anchoring status, sampled once per interval (absent: no anchoring columns); it reads storage. */
  anchoring?: () => Promise<AnchoringLagSource>;
  /** ms since the epoch (tests step it). */
  now?: () => number;
  intervalMs?: number;
  capacity?: number;
  probeMs?: number;
  /** Told of a sample that failed; the timer has no caller to throw to. */
  onError?: (err: unknown) => void;
}

/** One sample: the interval that ended at `t`. */
export interface SeriesPoint {
  /** Unix seconds (ms precision) when the interval ended. */
  t: number;
  /** Entries sequenced per second over the interval, every namespace together. */
  appendRate: number;
  checkpoints: number;
  checkpointLatencyP50: number | null;
  checkpointLatencyMax: number | null;
  cosignRounds: number;
  cosignLatencyMean: number | null;
  /** Target → seconds since its last finalized anchor (null: none yet). */
  anchoringLag: ReadonlyMap<string, number | null>;
}

/** GET /v1/node/series: columns of equal length, oldest first, as uPlot takes them (docs/api.md). */
export interface SeriesView {
  interval_s: number;
  capacity: number;
  probe_ms: number;
  t: number[];
  append_rate: number[];
  checkpoints: number[];
  checkpoint_latency_ms_p50: Array<number | null>;
  checkpoint_latency_ms_max: Array<number | null>;
  cosign_rounds: number[];
  cosign_latency_ms_mean: Array<number | null>;
  anchoring_lag_s: Record<string, Array<number | null>>;
  /** Each target's epoch length, s: the cadence its lag is read against. */
  anchoring_epoch_s: Record<string, number>;
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const orNull = (v: number | null, f: (v: number) => number) => (v === null ? null : f(v));

/**
 * The bounded time series behind the explorer's live chart (issue 13): append rate, checkpoint
 * latency, cosigning latency and anchoring lag, one point per interval over the last hour. Fed
 * by timers that read what the node already keeps (engine sizes, the cosigning histogram, the
 * anchoring status), never by the append path; both timers are unref'd and stop() clears them.
 */
export class NodeSeries {
  readonly intervalMs: number;
  readonly probeMs: number;
  readonly #o: NodeSeriesOptions;
  readonly #now: () => number;
  readonly #ring: SeriesRing<SeriesPoint>;
  readonly #probe: CheckpointProbe;
  readonly #epochS = new Map<string, number>();
  #lastSampleMs: number;
  #cosignSeen: { count: number; sum: number } | undefined;
  #probeTimer: NodeJS.Timeout | undefined;
  #sampleTimer: NodeJS.Timeout | undefined;

  constructor(options: NodeSeriesOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.intervalMs = options.intervalMs ?? DEFAULT_SERIES_INTERVAL_MS;
    this.probeMs = options.probeMs ?? DEFAULT_SERIES_PROBE_MS;
    this.#ring = new SeriesRing(options.capacity ?? DEFAULT_SERIES_CAPACITY);
    this.#probe = new CheckpointProbe(options.engine);
    this.#lastSampleMs = this.#now();
  }

  start(): void {
    this.#probeTimer ??= setInterval(() => this.#guard(() => this.probe()), this.probeMs);
    this.#probeTimer.unref();
    this.#sampleTimer ??= setInterval(
      () => void this.sample().catch((e: unknown) => this.#o.onError?.(e)),
      this.intervalMs,
    );
    this.#sampleTimer.unref();
  }

  stop(): void {
    clearInterval(this.#probeTimer);
    clearInterval(this.#sampleTimer);
    this.#probeTimer = undefined;
    this.#sampleTimer = undefined;
  }

  /** One look at the logs (the probe timer's work; tests call it with their clock set). */
  probe(): void {
    this.#probe.probe(this.#now());
  }

  /** Ends the interval: probes once more, then records one point. */
  async sample(): Promise<SeriesPoint> {
    const cosign = await this.#cosignTotals();
    const now = this.#now();
    this.#probe.probe(now);
    const w = this.#probe.take();
    const elapsedS = Math.max(now - this.#lastSampleMs, 1) / 1000;
    this.#lastSampleMs = now;
    let cosignRounds = 0;
    let cosignLatencyMean: number | null = null;
    if (cosign) {
      const prev = this.#cosignSeen ?? { count: 0, sum: 0 };
      cosignRounds = cosign.count - prev.count;
      if (cosignRounds > 0) cosignLatencyMean = ((cosign.sum - prev.sum) / cosignRounds) * 1000;
      this.#cosignSeen = cosign;
    }
    const anchoringLag = new Map<string, number | null>();
    for (const t of (await this.#o.anchoring?.())?.targets ?? []) {
      this.#epochS.set(t.target, t.epoch_ms / 1000);
      anchoringLag.set(t.target, t.last_finalized === null ? null : t.last_finalized.age_ms / 1000);
    }
    const point: SeriesPoint = {
      t: Math.round(now) / 1000,
      appendRate: w.appended / elapsedS,
      checkpoints: w.checkpoints,
      checkpointLatencyP50: w.latency.quantile(0.5),
      checkpointLatencyMax: w.latency.max(),
      cosignRounds,
      cosignLatencyMean,
      anchoringLag,
    };
    this.#ring.push(point);
    return point;
  }

  /** When the newest point's interval ended, unix seconds (null before the first). */
  newestT(): number | null {
    return this.#ring.newest()?.t ?? null;
  }

  /** The points held (those after `sinceS`, unix seconds, if given), as columns. */
  view(sinceS?: number): SeriesView {
    const points = this.#ring.toArray().filter((p) => sinceS === undefined || p.t > sinceS);
    const lag: Record<string, Array<number | null>> = {};
    for (const target of this.#epochS.keys())
      lag[target] = points.map((p) => orNull(p.anchoringLag.get(target) ?? null, round1));
    return {
      interval_s: this.intervalMs / 1000,
      capacity: this.#ring.capacity,
      probe_ms: this.probeMs,
      t: points.map((p) => p.t),
      append_rate: points.map((p) => round1(p.appendRate)),
      checkpoints: points.map((p) => p.checkpoints),
      checkpoint_latency_ms_p50: points.map((p) => orNull(p.checkpointLatencyP50, Math.round)),
      checkpoint_latency_ms_max: points.map((p) => orNull(p.checkpointLatencyMax, Math.round)),
      cosign_rounds: points.map((p) => p.cosignRounds),
      cosign_latency_ms_mean: points.map((p) => orNull(p.cosignLatencyMean, round1)),
      anchoring_lag_s: lag,
      anchoring_epoch_s: Object.fromEntries(this.#epochS),
    };
  }

  /** Rounds counted and their summed seconds so far, off the cosigning histogram. */
  async #cosignTotals(): Promise<{ count: number; sum: number } | undefined> {
    const metrics = this.#o.metrics;
    if (!metrics) return undefined;
    const { values } = await metrics.cosignRound.get();
    const pick = (suffix: string) => values.find((v) => v.metricName?.endsWith(suffix))?.value ?? 0;
    return { count: pick('_count'), sum: pick('_sum') };
  }

  #guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.#o.onError?.(e);
    }
  }
}
