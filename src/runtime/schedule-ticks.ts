import { createHash } from 'node:crypto';
import { Cron } from 'croner';
import { ValidationError } from '../core/errors.ts';
import type { PartitionGranularity } from '../core/partitions.ts';
import type { ScheduleDef } from '../sdk/pipeline.ts';
import type { AnyPipeline } from './pipeline-registry.ts';

/** A schedule whose cron and time zone have been checked, ready to compute ticks. */
export interface CompiledSchedule {
  readonly pipeline: AnyPipeline;
  readonly def: ScheduleDef;
  readonly cron: Cron;
}

function checkTimeZone(timeZone: string): string | null {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

/**
 * Checks every schedule of every pipeline: five-field cron, IANA time zone, a partition
 * mode, unique names, and a cron that can fire at all. Errors name pipeline and schedule.
 */
/** A schedule's cron as the scheduler reads it: five fields, in the schedule's time zone. */
export function cronOf(def: { cron: string; timezone: string }): Cron {
  return new Cron(def.cron, { timezone: def.timezone, mode: '5-part' });
}

export function compileSchedules(pipelines: readonly AnyPipeline[]): CompiledSchedule[] {
  const out: CompiledSchedule[] = [];
  for (const pipeline of pipelines) {
    const seen = new Set<string>();
    for (const def of pipeline.schedules) {
      const where = `pipeline ${pipeline.name} schedule "${def.name}"`;
      if (seen.has(def.name)) throw new ValidationError(`${where} is defined twice`, 'schedules');
      seen.add(def.name);
      const tzError = checkTimeZone(def.timezone);
      if (tzError !== null) {
        throw new ValidationError(`${where}: unknown time zone "${def.timezone}" (use an IANA name such as Europe/London): ${tzError}`, 'schedules');
      }
      if (def.partition !== 'previous' && def.partition !== 'current') {
        throw new ValidationError(`${where}: partition must be "previous" or "current", got ${JSON.stringify(def.partition)}`, 'schedules');
      }
      let cron: Cron;
      try {
        cron = cronOf(def);
      } catch (err) {
        throw new ValidationError(`${where}: bad cron "${def.cron}": ${(err as Error).message}`, 'schedules', err);
      }
      if (cron.nextRun(new Date()) === null) throw new ValidationError(`${where}: cron "${def.cron}" never fires`, 'schedules');
      out.push(Object.freeze({ pipeline, def, cron }));
    }
  }
  return out;
}

/**
 * The ticks in (after, now], oldest first. When more than `max` are due, only the newest
 * `max` are returned and `droppedFrom` is the first one left out.
 */
export function dueTicks(cron: Cron, after: Date, now: Date, max: number): { ticks: Date[]; droppedFrom: Date | null } {
  const first = cron.nextRuns(max + 1, after).filter((t) => t.getTime() <= now.getTime());
  if (first.length <= max) return { ticks: first, droppedFrom: null };
  // A backlog: walk back from now instead of forward through every missed tick. Runs are
  // on whole minutes, so a reference one second ahead includes a tick exactly at `now`.
  const newest = cron.previousRuns(max + 1, new Date(now.getTime() + 1000))
    .filter((t) => t.getTime() <= now.getTime() && t.getTime() > after.getTime())
    .slice(0, max)
    .reverse();
  return { ticks: newest, droppedFrom: first[0]! };
}

/** The next tick strictly after `after`, or null if the cron never fires again. */
export function nextTick(schedule: CompiledSchedule, after: Date): Date | null {
  return schedule.cron.nextRun(after);
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

function localDate(at: Date, timeZone: string): { year: number; month: number; day: number } {
  let f = dateFormats.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' });
    dateFormats.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(at).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

/**
 * The partition a tick runs, read in the schedule's time zone: `current` contains the
 * tick; `previous` is the one before it, i.e. the one that has just closed.
 */
export function tickPartition(granularity: PartitionGranularity, mode: 'previous' | 'current', at: Date, timeZone: string): string {
  const { year, month, day } = localDate(at, timeZone);
  const back = mode === 'previous' ? 1 : 0;
  // Date.UTC normalises day 0 and month -1 into the previous month and year.
  if (granularity === 'daily') return new Date(Date.UTC(year, month - 1, day - back)).toISOString().slice(0, 10);
  return new Date(Date.UTC(year, month - 1 - back, 1)).toISOString().slice(0, 7);
}

// A fixed namespace for name-based (version 5) UUIDs of schedule ticks.
const NAMESPACE = Buffer.from('2f0c5e1a9b7d4c3e8a6f1d2b3c4e5f60', 'hex');

/**
 * The run id of a tick: a UUID derived from pipeline, schedule and tick time, so
 * submitting the same tick twice names the same run and the store refuses the second.
 */
export function tickRunId(pipeline: string, schedule: string, tickAt: string): string {
  const h = createHash('sha1').update(NAMESPACE).update(JSON.stringify([pipeline, schedule, tickAt])).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
