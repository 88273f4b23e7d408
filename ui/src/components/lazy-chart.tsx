import { lazy, Suspense } from 'react';
import type { ChartProps } from './chart';

const Chart = lazy(() => import('./chart'));

/** The chart, loaded with its engine on first use; the space is held meanwhile so nothing jumps. */
export function LazyChart(props: ChartProps) {
  return (
    <Suspense fallback={<div className="chart" style={{ height: (props.height ?? 200) + 40 }} aria-busy="true" />}>
      <Chart {...props} />
    </Suspense>
  );
}

/** Each status's colour, the same as the partition grid's. */
export const STATUS_COLOURS: Record<string, string> = {
  succeeded: '#2e8b4e', failed: '#c0392b', cancelled: '#9aa5b5', no_data: '#c9b458', running: '#3b73c4', queued: '#8fb0e3',
};
