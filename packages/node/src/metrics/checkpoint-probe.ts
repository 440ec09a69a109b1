import { LatencyHistogram } from './latency-histogram.js';

/**
 * What the probe reads of the log engine (LogEngine has these): in-memory sizes and the latest
 * checkpoint, no storage. Spelled out here because metrics/ sits below log/ in the layers.
 */
export interface ProbedEngine {
  listNamespaces(): ReadonlyArray<{ id: string }>;
  sequencedSize(namespace: string): number;
  latestCheckpoint(namespace: string): { size: number; publishedAt: string } | undefined;
}

/**
 * Growth marks kept per namespace waiting for a checkpoint. A namespace whose checkpoints stall
 * (signing stuck) would otherwise collect one every probe; past this many, later growth is not
 * marked, so its latency is not observed until the stall ends, while the oldest marks, which
 * carry the longest waits, are kept and reported.
 */
const MAX_MARKS = 64;

interface NamespaceWatch {
  /** Sequenced size at the last probe. */
  seen: number;
  /** Size of the latest checkpoint at the last probe. */
  checkpointSize: number;
  /** Sizes the log grew to, each with when a probe first saw it, oldest first. */
  marks: Array<{ size: number; atMs: number }>;
}

/** What the probes saw since the last take(). */
export interface ProbeWindow {
  /** Entries sequenced, over every namespace. */
  appended: number;
  /** Checkpoints signed (a namespace's latest checkpoint grew). */
  checkpoints: number;
  /** Checkpoint latencies, ms (see CheckpointProbe). */
  latency: LatencyHistogram;
}

/**
 * Watches every namespace's sequenced size and latest checkpoint from a timer, so the append path
 * pays nothing for the live figures. Checkpoint latency is defined as: for each probe that saw a
 * log grow, the time from that probe to the signing (`publishedAt`) of the first checkpoint
 * covering all it saw. It under-reads the true sequencing-to-signature time by at most one probe
 * period (an entry is seen up to that long after it was sequenced). `publishedAt` is clamped
 * between the mark and the probe that saw the checkpoint, so a clock step, or the test clock, never
 * gives a negative or future latency.
 */
export class CheckpointProbe {
  readonly #engine: ProbedEngine;
  readonly #watch = new Map<string, NamespaceWatch>();
  #window: ProbeWindow = { appended: 0, checkpoints: 0, latency: new LatencyHistogram() };

  /** What exists now is the baseline: only what happens after construction is counted. */
  constructor(engine: ProbedEngine) {
    this.#engine = engine;
    for (const ns of engine.listNamespaces()) {
      this.#watch.set(ns.id, {
        seen: engine.sequencedSize(ns.id),
        checkpointSize: engine.latestCheckpoint(ns.id)?.size ?? 0,
        marks: [],
      });
    }
  }

  /** One look at every namespace; cost O(namespaces), all in memory. */
  probe(nowMs: number): void {
    const w = this.#window;
    for (const ns of this.#engine.listNamespaces()) {
      let watch = this.#watch.get(ns.id);
      // Created after the baseline: everything in it was appended since.
      if (watch === undefined) this.#watch.set(ns.id, (watch = { seen: 0, checkpointSize: 0, marks: [] }));
      const size = this.#engine.sequencedSize(ns.id);
      if (size > watch.seen) {
        w.appended += size - watch.seen;
        watch.seen = size;
        if (watch.marks.length < MAX_MARKS) watch.marks.push({ size, atMs: nowMs });
      }
      const cp = this.#engine.latestCheckpoint(ns.id);
      if (cp === undefined || cp.size <= watch.checkpointSize) continue;
      w.checkpoints++;
      watch.checkpointSize = cp.size;
      const publishedMs = Date.parse(cp.publishedAt);
      while (watch.marks.length > 0 && watch.marks[0]!.size <= cp.size) {
        const mark = watch.marks.shift()!;
        const signedMs = Number.isFinite(publishedMs) ? Math.min(Math.max(publishedMs, mark.atMs), nowMs) : nowMs;
        w.latency.observe(signedMs - mark.atMs);
      }
    }
  }

  /** What was seen since the last take, and a fresh window for what comes next. */
  take(): ProbeWindow {
    const w = this.#window;
    this.#window = { appended: 0, checkpoints: 0, latency: new LatencyHistogram() };
    return w;
  }
}
