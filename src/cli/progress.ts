import type { RunUpdate } from '../runtime/run-updates.ts';
import { countNoun } from './count-noun.ts';
import { failureWhere } from './failure-text.ts';
import { reconciliationText } from './run-summary.ts';
import { statusText } from './status-text.ts';

const MARK: Record<string, string> = {
  running: '▶', succeeded: '✔', no_data: '∅', failed: '✖', skipped: '↷', cancelled: '■', retrying: '↻',
};

/**
 * Live progress on a terminal: one line per step state change, the steps' log lines, where
 * a failed attempt failed, and on a TTY a single in-place line with the running step's row
 * count. `verbose` adds debug log lines and whole stacks.
 */
export class ProgressView {
  readonly #out: NodeJS.WriteStream;
  readonly #tty: boolean;
  #live = false;
  readonly #prefix: string;
  readonly #verbose: boolean;

  constructor(out: NodeJS.WriteStream, prefix = '', options: { verbose?: boolean } = {}) {
    this.#out = out;
    this.#tty = Boolean(out.isTTY);
    this.#prefix = prefix;
    this.#verbose = options.verbose ?? false;
  }

  update = (u: RunUpdate): void => {
    switch (u.kind) {
      case 'step':
        if (u.status === 'pending') return;
        this.#line(`${MARK[u.status] ?? '·'} ${u.step} ${statusText(u.status)}${u.attempt > 1 ? ` (attempt ${u.attempt})` : ''}${u.reason ? ` — ${u.reason}` : ''}`);
        return;
      case 'progress':
        if (this.#tty) {
          this.#out.write(`\r\x1b[2K  … ${u.step}: ${countNoun(u.rows, 'row')}${u.message ? ` (${u.message})` : ''}`);
          this.#live = true;
        }
        return;
      case 'materialized': {
        this.#line(`  ${u.asset}: ${countNoun(u.rows, 'row')}${materializedNotes(u.rows, u.metadata)}`);
        const reconciled = reconciliationText(u.metadata);
        if (reconciled) this.#line(`  reconciled: ${reconciled}`);
        return;
      }
      case 'check':
        this.#line(`  check ${u.result.asset}:${u.result.check} [${u.result.severity}] ${u.result.passed ? 'passed' : u.result.severity === 'warn' ? 'WARNING' : 'FAILED'} — ${u.result.message}`);
        return;
      case 'log':
        if (u.level === 'debug' && !this.#verbose) return;
        this.#line(`  [${u.step}] ${u.level === 'info' ? '' : `${u.level}: `}${u.message}`);
        return;
      case 'attempt': {
        const where = failureWhere(u.failure, this.#verbose);
        if (where.length === 0) return;
        this.#line(`  ${u.step}: attempt ${u.attempt} failed (${u.failure.name})`);
        for (const l of where) this.#line(l);
        return;
      }
      case 'run':
        if (u.status !== 'running') this.#line(`run ${u.runId} ${statusText(u.status)}${u.error ? `: ${u.error}` : ''}`);
    }
  };

  #line(text: string): void {
    if (this.#live) this.#out.write('\r\x1b[2K');
    this.#live = false;
    this.#out.write(`${this.#prefix}${text}\n`);
  }
}

/**
 * What a materialization line adds to its row count: the rows quarantined beside it, and for
 * an insert-only table how many of its rows this run added, when not all of them.
 */
function materializedNotes(rows: number, metadata: Record<string, unknown>): string {
  const notes: string[] = [];
  const quarantined = Number(metadata.quarantined ?? 0);
  if (quarantined > 0) notes.push(`${quarantined.toLocaleString('en-US')} quarantined`);
  if (typeof metadata.inserted === 'number' && metadata.inserted !== rows) notes.push(`${metadata.inserted.toLocaleString('en-US')} new`);
  return notes.map((n) => `, ${n}`).join('');
}
