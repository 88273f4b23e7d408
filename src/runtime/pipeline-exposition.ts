import { METRICS } from '../core/metric-catalogue.ts';

const CATALOGUED = new Set(Object.values(METRICS).map((d) => d.name));
const PIPELINE_LABEL = /[{,]pipeline="((?:[^"\\]|\\.)*)"/;

/**
 * The part of a Prometheus text exposition that belongs in one pipeline's Pushgateway group:
 * catalogued series labelled with that pipeline, and the gauges steps report with no pipeline
 * label or that one (an unlabelled step gauge cannot be told apart, so it goes with every group). The control plane's own series are scraped from it
 * directly, and another pipeline's would be refused by the Pushgateway (a `pipeline` label
 * that contradicts the group's) and fail the whole push.
 *
 * @example
 * pipelineExposition(await metrics.render({ process: false }), 'retail');
 */
export function pipelineExposition(text: string, pipeline: string): string {
  const out: string[] = [];
  // prom-client writes each family as `# HELP`, `# TYPE`, then its samples.
  for (const block of text.split(/^(?=# HELP )/m)) {
    const lines = block.split('\n').filter((l) => l !== '');
    const family = /^# HELP (\S+)/.exec(lines[0] ?? '')?.[1];
    if (!family) continue;
    const catalogued = CATALOGUED.has(family);
    const samples = lines.filter((l) => !l.startsWith('#')).filter((l) => {
      const labelled = PIPELINE_LABEL.exec(l.slice(0, l.lastIndexOf('}') + 1))?.[1];
      return labelled === pipeline || (!catalogued && labelled === undefined);
    });
    if (samples.length > 0) out.push(...lines.filter((l) => l.startsWith('#')), ...samples);
  }
  return out.length ? `${out.join('\n')}\n` : '';
}
