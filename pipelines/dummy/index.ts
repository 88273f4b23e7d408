import { Readable } from 'node:stream';
import { z } from 'zod';
import { daily, definePipeline, sleep } from 'sluice';

// A load simulator (SEEDS.md §E "dummy service"): it produces records at a steady rate,
// reports progress, and on request fails, crashes its process or hangs it, so retries,
// lost-worker detection and alerting can be exercised against a pipeline that behaves
// like a real one. Its effect is an object whose content depends only on the run and the
// partition, so a retried or duplicated attempt rewrites the same bytes.
const params = z
  .object({
    /** Records to produce. */
    records: z.coerce.number().int().nonnegative().default(1000),
    /** Records per second. */
    rate: z.coerce.number().positive().default(500),
    /** Throw (a retryable error) once this many records are done. */
    failAfter: z.coerce.number().int().nonnegative().optional(),
    /** SIGKILL the process running the step once this many records are done (use with worker processes). */
    crashAfter: z.coerce.number().int().nonnegative().optional(),
    /** Block the process (no heartbeats, no events) for `hangMs` once this many records are done. */
    hangAfter: z.coerce.number().int().nonnegative().optional(),
    hangMs: z.coerce.number().int().positive().default(60_000),
  })
  .strict();

const dummy = definePipeline({
  name: 'dummy',
  description: 'simulates load: records at a rate, with progress; can fail, crash or hang on request',
  params,
  partitions: daily({ start: '2024-01-01' }),
});
type Ctx = typeof dummy.context;

const BATCHES_PER_SECOND = 10;

const objectKey = (ctx: Ctx) => `dummy/${ctx.runId}/${ctx.partition?.key ?? 'all'}.json`;

/** The records of a run, always the same for the same run and partition. */
function* recordsJson(ctx: Ctx): Generator<string> {
  const partition = ctx.partition?.key ?? null;
  yield `{"runId":${JSON.stringify(ctx.runId)},"partition":${JSON.stringify(partition)},"count":${ctx.params.records},"records":[`;
  for (let i = 0; i < ctx.params.records; i++) {
    yield `${i === 0 ? '' : ','}{"id":${i},"value":${Math.imul(i + 1, 2654435761) >>> 16}}`;
  }
  yield ']}\n';
}


/** Fails, crashes or hangs when `done` reaches the threshold the params name. */
async function trip(ctx: Ctx, done: number): Promise<void> {
  const p = ctx.params;
  if (p.failAfter === done) throw new Error(`dummy: failing after ${done} records (failAfter)`);
  if (p.crashAfter === done) {
    ctx.log.warn(`dummy: killing process ${process.pid} after ${done} records (crashAfter)`);
    await sleep(50, ctx.signal);
    process.kill(process.pid, 'SIGKILL');
  }
  if (p.hangAfter === done) {
    ctx.log.warn(`dummy: blocking process ${process.pid} for ${p.hangMs} ms after ${done} records (hangAfter)`);
    await sleep(50, ctx.signal);
    // Blocks the event loop itself: no timers, no heartbeats, no answers to anything.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, p.hangMs);
  }
}

const records = dummy.asset({
  name: 'dummy.records',
  description: 'the simulated records of a run, as an object dummy/<runId>/<partition or all>.json',
  checks: [
    dummy.check({
      name: 'object_complete',
      severity: 'error',
      async evaluate(ctx) {
        const doc = JSON.parse((await ctx.objects.get(objectKey(ctx))).toString('utf8')) as { records: unknown[] };
        const n = doc.records.length;
        return { passed: n === ctx.params.records, value: n, message: `${n} of ${ctx.params.records} records in ${objectKey(ctx)}` };
      },
    }),
  ],
});

const load = dummy.step({
  name: 'load',
  description: 'produces `records` records at `rate` per second in batches, then writes them to an object',
  assets: [records],
  retry: { maxAttempts: 3, backoffMs: 200 },
  async run(ctx) {
    const { rate } = ctx.params;
    const total = ctx.params.records;
    const batch = Math.max(1, Math.round(rate / BATCHES_PER_SECOND));
    const thresholds = [ctx.params.failAfter, ctx.params.crashAfter, ctx.params.hangAfter].filter((t) => t !== undefined);
    const started = Date.now();
    ctx.log.info(`dummy: producing ${total} records at ${rate}/s`);
    let done = 0;
    await trip(ctx, done);
    while (done < total) {
      // Stop at a threshold exactly, so "after N records" means N.
      done = Math.min(total, done + batch, ...thresholds.filter((t) => t > done));
      ctx.progress(done, { total });
      await trip(ctx, done);
      const due = started + (done * 1000) / rate;
      await sleep(Math.max(0, due - Date.now()), ctx.signal);
    }
    const key = objectKey(ctx);
    const info = await ctx.objects.put(key, Readable.from(recordsJson(ctx)));
    ctx.log.info(`dummy: wrote ${total} records to ${key} (${info.size} bytes)`);
    ctx.materialize(records, { rows: total, metadata: { object: key, bytes: info.size } });
  },
});

export default dummy.build({ steps: [load] });
