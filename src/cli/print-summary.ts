import { countNoun } from './count-noun.ts';
import { print } from './context.ts';
import { failureWhere } from './failure-text.ts';
import type { RunSummary } from './run-summary.ts';
import { statusText } from './status-text.ts';

/**
 * The last lines of `sluice run` and `sluice retry`: the outcome, and for a failure the
 * reason, the pipeline's line that threw it and why no retry followed. The live view above
 * has shown the whole stack already when --verbose asked for it.
 */
export function printSummary(summary: RunSummary): void {
  print(summaryLine(summary));
  if (!summary.error) return;
  print(`${summary.status === 'no_data' ? 'no data' : 'reason'}: ${summary.error}`);
  if (summary.status === 'no_data') return;
  const failed = summary.steps.find((s) => s.failure !== null && s.reason === summary.error) ?? summary.steps.find((s) => s.failure !== null);
  if (!failed?.failure) return;
  for (const line of failureWhere(failed.failure, false, '  ')) print(line);
  if (failed.failure.notRetried) print(`not retried: ${failed.failure.notRetried}`);
}

/** The outcome line: `retail [2010-12-01]: succeeded in 1.3 s, 18,008 rows written, 0 quarantined`. */
export function summaryLine(summary: RunSummary): string {
  const secs = summary.durationMs === null ? '' : ` in ${(summary.durationMs / 1000).toFixed(1)} s`;
  const retry = summary.parentRunId ? `, retry of ${summary.parentRunId}` : '';
  return `${summary.pipeline}${summary.partition ? ` [${summary.partition}]` : ''}: ${statusText(summary.status)}${secs}, ${countNoun(summary.rowsWritten, 'row')} written, ${summary.quarantined.toLocaleString('en-US')} quarantined${retry}`;
}
