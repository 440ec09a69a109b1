/** GET /v1/node/series (docs/api.md): columns of equal length, oldest first. */
export interface SeriesAnswer {
  interval_s: number;
  t: number[];
  append_rate: number[];
  checkpoint_latency_ms_p50: (number | null)[];
  checkpoint_latency_ms_max: (number | null)[];
  cosign_latency_ms_mean?: (number | null)[];
  anchoring_lag_s: Record<string, (number | null)[]>;
  anchoring_epoch_s?: Record<string, number>;
}

export interface ChartLine {
  label: string;
  values: (number | null)[];
}

/** One small chart: a title, its unit, the time axis (unix seconds) and its lines. */
export interface ChartSpec {
  id: string;
  title: string;
  unit: string;
  t: number[];
  lines: ChartLine[];
  /** The newest value of each line, in words, for those who cannot see the chart. */
  summary: string;
}

function last(values: readonly (number | null)[]): number | null {
  for (let i = values.length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i]!;
  return null;
}

function summarize(lines: readonly ChartLine[], unit: string, points: number): string {
  if (points === 0) return 'no samples yet (one is taken every interval)';
  return lines.map((l) => `${l.label}: ${last(l.values) === null ? 'none' : `${last(l.values)} ${unit}`}`).join('; ');
}

/** The three charts of a node: append rate, checkpoint latency, and anchoring lag per target. */
export function seriesCharts(s: SeriesAnswer): ChartSpec[] {
  const n = s.t.length;
  const specs: Omit<ChartSpec, 'summary'>[] = [
    {
      id: 'append-rate',
      title: 'Append rate',
      unit: 'entries/s',
      t: s.t,
      lines: [{ label: 'entries/s', values: s.append_rate }],
    },
    {
      id: 'checkpoint-latency',
      title: 'Checkpoint latency',
      unit: 'ms',
      t: s.t,
      lines: [
        { label: 'p50', values: s.checkpoint_latency_ms_p50 },
        { label: 'max', values: s.checkpoint_latency_ms_max },
      ],
    },
    {
      id: 'anchoring-lag',
      title: 'Anchoring lag',
      unit: 's',
      t: s.t,
      lines: Object.entries(s.anchoring_lag_s).map(([target, values]) => ({ label: target, values })),
    },
  ];
  return specs.map((c) => ({
    ...c,
    summary: c.lines.length === 0 ? 'no anchor targets on this node' : summarize(c.lines, c.unit, n),
  }));
}
