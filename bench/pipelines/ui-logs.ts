import { pipeline, step } from 'sluice';

// A long run for the UI benchmark: 200 steps in a chain, each logging 100 lines and then
// waiting a moment, so a run page follows 20,000 log lines arriving live for a while.
export const UI_STEPS = 200;
export const UI_LINES_PER_STEP = 100;

export const uiLogs = pipeline({
  name: 'bench-ui-logs',
  description: '200 chained steps of 100 log lines each: the run page under load',
  steps: Array.from({ length: UI_STEPS }, (_, i) => step({
    name: `l${i}`,
    deps: i === 0 ? [] : [`l${i - 1}`],
    async run(ctx) {
      for (let j = 0; j < UI_LINES_PER_STEP; j++) ctx.log.info(`step ${i} line ${j}: ${'x'.repeat(40)}`);
      await new Promise((r) => setTimeout(r, 40));
    },
  })),
});
