import { z } from 'zod';
import { definePipeline } from 'sluice';

// A job that always fails (SEEDS.md §C), to prove alerting end to end: its attempts, the
// retry and the final failure show in the UI, the API, the failure metrics and the alerts.
const alwaysFails = definePipeline({
  name: 'always-fails',
  description: 'fails on every attempt, on purpose: proves retries, failure metrics and alerting',
  params: z.object({ message: z.string().default('this job always fails (on purpose)') }).strict(),
});

const fail = alwaysFails.step({
  name: 'fail',
  description: 'throws a retryable error, so the retry is visible before the run fails',
  retry: { maxAttempts: 2, backoffMs: 100, maxBackoffMs: 200 },
  run(ctx) {
    throw new Error(`${ctx.params.message} (attempt ${ctx.attempt})`);
  },
});

export default alwaysFails.build({ steps: [fail] });
