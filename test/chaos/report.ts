import type { CampaignResult } from './campaign.ts';

const count = <T>(items: readonly T[], key: (x: T) => string): string => {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
};

const duration = (ms: number) => `${Math.floor(ms / 60_000)}m ${Math.round((ms % 60_000) / 1000)}s`;

/** The campaign in a few lines, then every violation with its run id. */
export function formatReport(r: CampaignResult): string {
  const lines = [
    `chaos campaign: seed ${r.seed}, bus ${r.bus}, ${r.injections.length} of ${r.requested} injections in ${duration(r.durationMs)}`,
    `  injections by target: ${count(r.injections, (i) => i.target)}`,
    `  moments: ${count(r.injections, (i) => i.fired)}; plans skipped: ${r.skipped.length}${r.skipped.length ? ` (${count(r.skipped, (s) => s.reason)})` : ''}`,
    `  runs: ${r.runs.length} (${count(r.runs, (x) => x.kind)})`,
    `  outcomes: ${count(r.runs, (x) => `${x.kind} ${x.status}`)}`,
    `  attempts: ${r.runs.reduce((n, x) => n + x.attempts, 0)}, lost ${r.runs.reduce((n, x) => n + x.lost, 0)}; warehouse checkpoints: ${r.checkpoints}`,
    `  violations: ${r.violations.length}${r.violations.length ? ` (${count(r.violations, (v) => v.kind)})` : ''}`,
    ...r.violations.map((v) => `  - ${v.kind}${v.runId ? ` run ${v.runId}` : ''}: ${v.message}`),
  ];
  if (r.home) lines.push(`  state kept in ${r.home}, control plane log ${r.logFile}`);
  return lines.join('\n');
}
