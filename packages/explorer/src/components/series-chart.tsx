/** @jsxRuntime automatic @jsxImportSource preact */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { ChartSpec } from '../model/series-charts.ts';

// Line colours chosen to stay apart for the common colour-vision deficiencies; the legend names
// each line, so colour is never the only cue.
const COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9'];

/** A small uPlot chart of one figure over the last hour, with its newest values in text beside it. */
export function SeriesChart({ spec }: { spec: ChartSpec }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = `${spec.lines.map((l) => l.label).join('|')}`;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const width = Math.max(260, Math.min(560, el.clientWidth || 320));
    plot.current = new uPlot(
      {
        width,
        height: 160,
        // The legend names each line (colour is never the only cue); without live values it
        // would print "--" for every line until a pointer hovers the chart.
        legend: { show: true, live: false },
        scales: { x: { time: true } },
        axes: [{}, { label: spec.unit, size: 56 }],
        series: [
          {},
          ...spec.lines.map((l, i) => ({ label: l.label, stroke: COLOURS[i % COLOURS.length], width: 1.5 })),
        ],
      },
      [spec.t, ...spec.lines.map((l) => l.values)] as uPlot.AlignedData,
      el,
    );
    return () => {
      plot.current?.destroy();
      plot.current = null;
    };
  }, [spec.id, shape]);

  useEffect(() => {
    plot.current?.setData([spec.t, ...spec.lines.map((l) => l.values)] as uPlot.AlignedData);
  }, [spec]);

  return (
    <figure class="chart" data-chart={spec.id}>
      <figcaption>
        {spec.title} <span class="sub">({spec.unit}, last hour)</span>
      </figcaption>
      <div ref={host} role="img" aria-label={`${spec.title}: ${spec.summary}`} />
      <p class="sub chart-summary">Now: {spec.summary}</p>
    </figure>
  );
}
