import pino from 'pino';
import type { Logger } from '../runtime/services.ts';
import type { SluiceConfig } from './config.ts';

const NAMES: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

/** One JSON log line as a person reads it on a terminal: `12:03:04 warn worker process exited {"worker":"…"}`. */
export function humanLine(json: string): string {
  try {
    const { level, time, msg, ...rest } = JSON.parse(json) as Record<string, unknown>;
    const when = typeof time === 'number' ? new Date(time).toISOString().slice(11, 19) : '';
    const extra = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
    return `${when} ${NAMES[level as number] ?? String(level)} ${String(msg ?? '')}${extra}\n`;
  } catch {
    return json;
  }
}

/**
 * The process's logger from the config: JSON lines on stderr at logLevel; with a log file,
 * every line to the file and only logStderrLevel and above to stderr, worded for a person.
 */
export function openLogger(config: SluiceConfig, base: Record<string, unknown> | undefined = undefined): Logger {
  if (config.logFile === undefined) return pino({ level: config.logLevel, base }, pino.destination(2));
  const stderrLevel = config.logStderrLevel ?? config.logLevel;
  const streams: pino.StreamEntry[] = [];
  if (config.logLevel !== 'silent') {
    streams.push({ level: config.logLevel, stream: pino.destination({ dest: config.logFile, mkdir: true, append: true, sync: true }) });
  }
  if (stderrLevel !== 'silent') streams.push({ level: stderrLevel, stream: { write: (line: string) => void process.stderr.write(humanLine(line)) } });
  const levels = streams.map((s) => pino.levels.values[s.level as string] ?? Infinity);
  const lowest = Math.min(...levels);
  const level = streams.length === 0 ? 'silent' : (pino.levels.labels[lowest] ?? 'info');
  return pino({ level, base }, pino.multistream(streams));
}
