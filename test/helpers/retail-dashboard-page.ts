/**
 * A static page in the layout of the generated retail quality dashboard (its stat row and its
 * warehouse panel), filled with the values a test read from Prometheus and ClickHouse: the
 * README's picture of the dashboard, since no Grafana runs here.
 */
export function retailDashboardPage(gauges: readonly { title: string; unit: string; value: number }[], sales: readonly { day: string; value: number }[]): string {
  const fmt = (v: number, unit: string) => {
    if (!Number.isFinite(v)) return 'No data';
    if (unit === 'percentunit') return `${(v * 100).toFixed(1)}%`;
    if (unit === 'currencyGBP') return `£${v.toLocaleString('en-GB', { maximumFractionDigits: 2 })}`;
    return v.toLocaleString('en-GB');
  };
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const tiles = gauges.map((g) => `<div class="tile"><h3>${escape(g.title)}</h3><p>${escape(fmt(g.value, g.unit))}</p></div>`).join('');
  const w = 1340, h = 300, pad = 50;
  const max = Math.max(1, ...sales.map((s) => s.value));
  const x = (i: number) => pad + (i * (w - 2 * pad)) / Math.max(1, sales.length - 1);
  const y = (v: number) => h - pad - (v / max) * (h - 2 * pad);
  const line = sales.map((s, i) => `${i ? 'L' : 'M'}${x(i).toFixed(1)},${y(s.value).toFixed(1)}`).join(' ');
  const dots = sales.map((s, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(s.value).toFixed(1)}" r="3"/>`).join('');
  const labels = sales.map((s, i) => (i % 3 === 0 ? `<text x="${x(i).toFixed(1)}" y="${h - pad + 20}" text-anchor="middle">${escape(s.day.slice(5))}</text>` : '')).join('');
  const ticks = [0, 0.5, 1].map((f) => `<text x="${pad - 8}" y="${y(max * f) + 4}" text-anchor="end">£${Math.round(max * f).toLocaleString('en-GB')}</text><line x1="${pad}" x2="${w - pad}" y1="${y(max * f)}" y2="${y(max * f)}" class="grid"/>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><style>
body { background: #111217; color: #ccccdc; font: 14px Inter, "Helvetica Neue", Arial, sans-serif; margin: 0; padding: 16px 24px; }
h1 { font-size: 18px; font-weight: 500; margin: 0 0 4px; } .sub { color: #8e8e9e; margin: 0 0 16px; }
h2 { font-size: 14px; font-weight: 500; margin: 18px 0 8px; border-bottom: 1px solid #2c2d33; padding-bottom: 4px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 8px; }
.tile { background: #181b1f; border: 1px solid #2c2d33; border-radius: 4px; padding: 8px 12px; }
.tile h3 { font-size: 13px; font-weight: 500; margin: 0; color: #ccccdc; } .tile p { font-size: 30px; margin: 8px 0 4px; color: #73bf69; }
.panel { background: #181b1f; border: 1px solid #2c2d33; border-radius: 4px; padding: 8px 12px; }
svg text { fill: #8e8e9e; font-size: 11px; } svg path { fill: none; stroke: #5794f2; stroke-width: 2; } svg circle { fill: #5794f2; } .grid { stroke: #2c2d33; }
</style></head><body>
<h1>Sluice / Retail quality</h1><p class="sub">Generated dashboard (deploy/grafana/dashboards/sluice-retail-quality.json), drawn from the test's Prometheus and ClickHouse results</p>
<h2>Latest day</h2><div class="tiles">${tiles}</div>
<h2>Warehouse (ClickHouse): sales volume per day</h2>
<div class="panel"><svg width="${w}" height="${h}">${ticks}<path d="${line}"/>${dots}${labels}</svg></div>
</body></html>`;
}
