import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color: string;
}

export interface ChartProps {
  /** What the chart shows, in words: the accessible name of the figure. */
  readonly label: string;
  /** x values: unix seconds when `time` (default), else plain numbers. */
  readonly x: readonly number[];
  readonly series: readonly ChartSeries[];
  readonly kind?: 'bars' | 'lines';
  /** Bars on top of each other (series[0] at the bottom). */
  readonly stacked?: boolean;
  readonly height?: number;
  readonly time?: boolean;
}

/**
 * A uPlot chart sized to its container. Loaded on demand (the pages import it lazily), so
 * the chart engine is not part of the first page's script.
 */
export default function Chart({ label, x, series, kind = 'lines', stacked = false, height = 200, time = true }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    // Stacked bars are drawn as running totals, the tallest first, so each shows its own band;
    // the legend still reads each series' own value.
    const totals = series.map((_, i) => x.map((__, j) => (stacked ? series.slice(0, i + 1).reduce((n, s) => n + (s.values[j] ?? 0), 0) : series[i]!.values[j] ?? null)));
    const order = stacked ? series.map((_, i) => series.length - 1 - i) : series.map((_, i) => i);
    const bars = uPlot.paths.bars!({ size: [0.8, 40], gap: 1 });
    const opts: uPlot.Options = {
      width: el.clientWidth || 600,
      height,
      scales: { x: { time } },
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...order.map((i) => {
          const s = series[i]!;
          return {
            label: s.label,
            stroke: s.color,
            fill: kind === 'bars' ? s.color : undefined,
            width: kind === 'bars' ? 0 : 2,
            paths: kind === 'bars' ? bars : undefined,
            points: { show: kind === 'lines' && x.length <= 60 },
            value: (_u: uPlot, _v: number | null, _si: number, idx: number | null) => {
              const v = idx === null ? null : s.values[idx];
              return v === null || v === undefined ? '—' : v.toLocaleString();
            },
          };
        }),
      ],
      axes: [{}, { size: 60 }],
    };
    const plot = new uPlot(opts, [x as number[], ...order.map((i) => totals[i]!)], el);
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 600, height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [x, series, kind, stacked, height, time]);
  return <figure className="chart" role="img" aria-label={label} ref={box} />;
}
