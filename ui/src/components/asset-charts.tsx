import { useMemo } from 'react';
import { useQuery } from '@tanstack/react-query';
import { api, data } from '../api/client';
import { partitionTime, useCheckResults, useMaterializations } from '../api/assets';
import { ErrorNote } from './error-note';
import { LazyChart } from './lazy-chart';

const PALETTE = ['#1f5fbf', '#c0392b', '#2e8b4e', '#8e44ad', '#d35400', '#16a085'];
const NUMERIC = /^(Nullable\()?(U?Int\d+|Float\d+|Decimal)/;
const TIME = /^(Nullable\()?(Date|Date32|DateTime)/;

/** The newest result of each point on the axis (newest-first input), oldest point first. */
function latestPerPoint<T extends { partition: string | null; ts: string }>(items: readonly T[]): { t: number; item: T }[] {
  const seen = new Map<number, T>();
  for (const it of items) {
    const t = partitionTime(it.partition, it.ts);
    if (!seen.has(t)) seen.set(t, it);
  }
  return [...seen].sort((a, b) => a[0] - b[0]).map(([t, item]) => ({ t, item }));
}

/** Rows each partition's newest materialization wrote. */
export function RowsPerPartition({ asset }: { asset: string }) {
  const m = useMaterializations(asset);
  const points = useMemo(() => latestPerPoint(m.data?.items ?? []), [m.data]);
  const series = useMemo(() => [{ label: 'rows', color: PALETTE[0]!, values: points.map((p) => p.item.rows) }], [points]);
  const x = useMemo(() => points.map((p) => p.t), [points]);
  if (m.error) return <ErrorNote error={m.error} />;
  if (points.length === 0) return <p>No materializations yet.</p>;
  return <LazyChart label={`rows of ${asset} per partition, ${points.length} partitions`} x={x} series={series} kind="bars" />;
}

/** Each check's value per partition (its newest result there), one small chart per check, with how many passed. */
export function CheckHistory({ asset }: { asset: string }) {
  const c = useCheckResults(asset);
  const results = c.data?.items;
  const charts = useMemo(() => {
    const byCheck = new Map<string, NonNullable<typeof results>>();
    for (const r of results ?? []) byCheck.set(r.check, [...(byCheck.get(r.check) ?? []), r]);
    return [...byCheck].map(([check, items]) => {
      const points = latestPerPoint(items);
      return {
        check, severity: items[0]!.severity,
        passed: points.filter((p) => p.item.passed).length, total: points.length,
        x: points.map((p) => p.t),
        series: [{ label: check, color: PALETTE[1]!, values: points.map((p) => p.item.value) }],
      };
    });
  }, [results]);
  if (c.error) return <ErrorNote error={c.error} />;
  if (charts.length === 0) return <p>No check results yet.</p>;
  return (
    <div className="charts">
      {charts.map((ch) => (
        <div key={ch.check}>
          <h3>{asset}:{ch.check} ({ch.severity}) — passed {ch.passed} of {ch.total}</h3>
          <LazyChart label={`${ch.check} value per partition, passed ${ch.passed} of ${ch.total}`} x={ch.x} series={ch.series} height={150} />
        </div>
      ))}
    </div>
  );
}

/**
 * A quality table's figures over its first date column: one small chart per numeric
 * column, so an anomaly shows as a spike rather than a number in a table.
 */
export function FiguresPerPartition({ asset }: { asset: string }) {
  const rows = useQuery({
    queryKey: ['asset', asset, 'rows', 'figures'],
    queryFn: async () => {
      const head = await data(api.GET('/api/v1/assets/{name}/rows', { params: { path: { name: asset }, query: { limit: 1 } } }));
      const time = head.columns.find((c) => TIME.test(c.type));
      if (!time) return { time: null, columns: head.columns, rows: [] };
      const all = await data(api.GET('/api/v1/assets/{name}/rows', { params: { path: { name: asset }, query: { limit: 1000, order: time.name } } }));
      return { time: time.name, columns: all.columns, rows: all.rows };
    },
  });
  const charts = useMemo(() => {
    const d = rows.data;
    if (!d?.time) return [];
    const x = d.rows.map((r) => Date.parse(String(r[d.time!])) / 1000);
    return d.columns.filter((c) => NUMERIC.test(c.type)).map((c, i) => ({
      name: c.name, x, series: [{ label: c.name, color: PALETTE[i % PALETTE.length]!, values: d.rows.map((r) => (r[c.name] === null ? null : Number(r[c.name]))) }],
    }));
  }, [rows.data]);
  if (rows.error) return <ErrorNote error={rows.error} />;
  if (rows.data && !rows.data.time) return <p>{asset} has no date column to chart over.</p>;
  if (rows.data && rows.data.rows.length === 0) return <p>{asset} has no rows yet.</p>;
  return (
    <div className="charts">
      {charts.map((ch) => (
        <div key={ch.name}>
          <h3>{ch.name}</h3>
          <LazyChart label={`${asset} ${ch.name} per day, ${ch.x.length} days`} x={ch.x} series={ch.series} height={150} />
        </div>
      ))}
    </div>
  );
}
