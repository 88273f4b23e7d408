import { CancelledError, InternalError, NotFoundError, SluiceError, StepError, TimeoutError, ValidationError, boundMessage, describeError } from '../core/errors.ts';
import { MAX_LOG_CHARS } from '../core/events.ts';
import { failureDetail } from '../core/failure.ts';
import { isNoData } from '../core/no-data.ts';
import { keyWindow } from '../core/partitions.ts';
import { ONE_SHARD } from '../core/stream-scale.ts';
import type { DataTopics } from '../ports/data-topics.ts';
import type { EventBus } from '../ports/event-bus.ts';
import type { LaunchRequest } from '../ports/launcher.ts';
import type { ObjectStore } from '../ports/object-store.ts';
import type { Warehouse } from '../ports/warehouse.ts';
import type { StepContext, StreamHandle } from '../sdk/context.ts';
import { parseParams } from '../sdk/pipeline.ts';
import type { SourcePolicy } from '../sdk/source-policy.ts';
import { checkMessage } from './check-message.ts';
import { AttemptEmitter } from './event-emitter.ts';
import type { PipelineRegistry } from './pipeline-registry.ts';

export interface ExecutorDeps {
  readonly registry: PipelineRegistry;
  readonly warehouse: Warehouse;
  readonly objects: ObjectStore;
  readonly bus: EventBus;
  /** The data topics stream steps read and write. */
  readonly topics: DataTopics;
  /** How often a running attempt says it is alive. */
  readonly heartbeatMs: number;
  /** Who runs the attempt, reported in `attempt.started` so it can be found (and killed). */
  readonly workerId?: string;
  /** What steps may read; without one they may read nothing (a forgotten policy must not mean "anything"). */
  readonly sources?: SourcePolicy;
}

const NO_SOURCES: SourcePolicy = Object.freeze({
  trust: 'restricted', roots: [], urlPrefixes: [], allowPrivateNetworks: false,
  connectTimeoutMs: 10_000, idleTimeoutMs: 30_000, maxBytes: 0,
});

const PROGRESS_EVERY_MS = 250;
const STREAM_STATUS_EVERY_MS = 500;
const STREAM_PROGRESS_EVERY_MS = 10_000;
/**
 * How long a stopped stream may take to flush and commit. Below the coordinator's cancel
 * grace (10 s), so the attempt reports its own end before it would be killed.
 */
export const STREAM_STOP_MS = 8_000;

/** How an attempt ended, as it reported it (a one-shot worker turns it into its exit code). */
export type AttemptEnd = 'succeeded' | 'failed' | 'cancelled';

/**
 * Runs one step attempt wherever a launcher put it (this process, a worker process, a
 * pod) and reports everything as events. User code runs inside one boundary (runBounded):
 * whatever it throws becomes a StepError; anything else that fails here is an
 * InternalError of the executor, so a user bug never looks like a framework bug.
 */
export async function executeAttempt(req: LaunchRequest, deps: ExecutorDeps, signal: AbortSignal): Promise<AttemptEnd> {
  const out = new AttemptEmitter(deps.bus, req);
  void out.emit({ type: 'attempt.started', attempt: req.attempt, workerId: deps.workerId, pid: process.pid });
  const heartbeat = setInterval(() => void out.emit({ type: 'heartbeat' }), deps.heartbeatMs);
  heartbeat.unref();
  try {
    // The code the run started with, even when this process has reloaded the pipelines since.
    const def = req.version ? await deps.registry.resolve(req.pipeline, req.version) : deps.registry.get(req.pipeline);
    const stepDef = def.steps.find((s) => s.name === req.step);
    if (!stepDef) throw new NotFoundError('step', `${req.step} in pipeline ${req.pipeline}`);
    // Valid when the run was submitted, but the definition may have changed since (a reload,
    // a worker on another version): a ParamsError, never retried, saying why.
    const params = parseParams(def, req.params) as Record<string, unknown>;
    // The key was admitted when the run was submitted, perhaps outside the range (allowOutOfRange).
    const partition = req.partition !== null && def.partitions ? keyWindow(def.partitions, req.partition) : null;

    const signals = [signal];
    if (req.timeoutMs !== null) signals.push(AbortSignal.timeout(req.timeoutMs));
    const stepSignal = AbortSignal.any(signals);

    let rowsWritten = 0;
    const materialized = new Set<string>();
    const declared = new Set(stepDef.assets.map((a) => a.name));
    let lastProgress = 0;
    const log = (level: 'debug' | 'info' | 'warn' | 'error') => (message: string) =>
      void out.emit({ type: 'log', level, message: boundMessage(String(message), MAX_LOG_CHARS) });
    let lastStatus = 0;
    let lastState: string | null = null;
    const stream: StreamHandle | null = !stepDef.stream ? null : {
      name: `${req.pipeline}.${req.step}`,
      offsets: Object.freeze([...(req.offsets ?? [])]),
      shard: Object.freeze({ ...(req.shard ?? ONE_SHARD) }),
      commit: (offsets) => out.emit({ type: 'stream.offsets', offsets: [...offsets] }),
      status(report) {
        const now = Date.now();
        // A change of state always goes out; progress at most twice a second.
        if (report.state === lastState && now - lastStatus < STREAM_STATUS_EVERY_MS) return;
        lastStatus = now;
        lastState = report.state;
        void out.emit({
          type: 'stream.status', state: report.state, partitions: [...(report.partitions ?? [])], counters: { ...report.counters },
          message: report.message === undefined ? undefined : boundMessage(report.message),
        });
      },
    };
    const ctx: StepContext<Record<string, unknown>> = {
      pipeline: req.pipeline,
      step: req.step,
      runId: req.runId,
      attemptId: req.attemptId,
      attempt: req.attempt,
      params,
      partition,
      warehouse: deps.warehouse,
      objects: deps.objects,
      topics: deps.topics,
      stream,
      sources: deps.sources ?? NO_SOURCES,
      signal: stepSignal,
      log: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
      progress(rows, options) {
        const now = Date.now();
        // A stream's progress is stored with its run for as long as it runs: seldom (its live view is stream.status).
        if (now - lastProgress < (stepDef.stream ? STREAM_PROGRESS_EVERY_MS : PROGRESS_EVERY_MS) && rows !== options?.total) return;
        lastProgress = now;
        const message = options?.message === undefined ? undefined : boundMessage(options.message);
        void out.emit({ type: 'progress', rows, total: options?.total, message });
      },
      materialize(ref, info) {
        const asset = typeof ref === 'string' ? ref : ref.name;
        // A name the step does not declare would be a lineage record no check or graph knows.
        if (!declared.has(asset)) {
          const names = [...declared].join(', ') || 'none';
          throw new ValidationError(`step ${req.step} materialized asset "${asset}", which it does not declare (its assets: ${names})`, 'assets');
        }
        materialized.add(asset);
        rowsWritten += info.rows;
        void out.emit({
          type: 'asset.materialized',
          asset,
          partition: req.partition,
          rows: info.rows,
          metadata: info.metadata ?? {},
        });
      },
      gauge(name, value, options) {
        const labels = { pipeline: req.pipeline, ...options?.labels };
        void out.emit({ type: 'metric', name, help: options?.help ?? name, labels, value });
      },
    };

    const noData = await runBounded(req.step, () => stepDef.run(ctx), stepSignal, signal, stepDef.stream).then(() => null, (err: unknown) => {
      if (isNoData(err)) return boundMessage(err.message);
      throw err;
    });
    // Nothing to record or check: the step ends no_data with what it materialized so far.
    if (noData !== null) {
      void out.emit({ type: 'attempt.succeeded', rowsWritten, noData });
      return 'succeeded';
    }
    for (const a of stepDef.assets) {
      if (!materialized.has(a.name)) ctx.materialize(a.name, { rows: 0, metadata: { implicit: true } });
    }
    for (const a of stepDef.assets) {
      for (const c of a.checks) {
        let passed = false;
        let value: number | null = null;
        let message: string;
        try {
          const r = await runBounded(req.step, () => c.evaluate(ctx), stepSignal, signal);
          passed = r.passed;
          value = r.value ?? null;
          message = checkMessage(r);
        } catch (err) {
          if (signal.aborted) throw err;
          message = `check raised: ${describeError(err instanceof StepError ? err.cause : err)}`;
        }
        void out.emit({
          type: 'check.evaluated',
          partition: req.partition,
          result: { asset: a.name, check: c.name, severity: c.severity, passed, message, value },
        });
      }
    }
    void out.emit({ type: 'attempt.succeeded', rowsWritten });
    return 'succeeded';
  } catch (err) {
    const e = err instanceof SluiceError ? err : new InternalError('the attempt executor', err);
    const d = failureDetail(e);
    void out.emit({
      type: 'attempt.failed',
      error: {
        code: d.code, message: d.message, retryable: d.retryable, name: d.name,
        nonRetryableReason: d.nonRetryableReason ?? undefined, stack: d.stack ?? undefined, frame: d.frame ?? undefined,
      },
    });
    return e instanceof CancelledError ? 'cancelled' : 'failed';
  } finally {
    clearInterval(heartbeat);
    await out.flush();
  }
}

/**
 * Runs user code until it settles or its signal fires. Code that ignores the signal keeps
 * running in the background, but the attempt ends on time.
 */
async function runBounded<T>(step: string, fn: () => Promise<T>, stepSignal: AbortSignal, cancel: AbortSignal, stream = false): Promise<T> {
  const aborted = new Promise<never>((_, reject) => {
    const cut = () => reject(cancel.aborted ? new CancelledError(`step ${step} cancelled`) : new TimeoutError(`step ${step} timed out`));
    // A stream is asked to stop, not cut off: it gets STREAM_STOP_MS to flush and return.
    const onAbort = stream ? () => setTimeout(() => reject(new CancelledError(`stream ${step} did not stop within ${STREAM_STOP_MS} ms`)), STREAM_STOP_MS).unref() : cut;
    if (stepSignal.aborted) onAbort();
    else stepSignal.addEventListener('abort', onAbort, { once: true });
  });
  aborted.catch(() => undefined);
  try {
    return await Promise.race([fn(), aborted]);
  } catch (err) {
    if (err instanceof CancelledError || err instanceof TimeoutError || isNoData(err)) throw err;
    if (stepSignal.aborted && !stream) {
      throw cancel.aborted ? new CancelledError(`step ${step} cancelled`) : new TimeoutError(`step ${step} timed out`);
    }
    throw new StepError(step, err);
  }
}
