import { pipeline, step } from 'sluice';

// Pipelines whose steps do nothing, so what is measured is Sluice's own overhead.
export const CHAIN = 40;
export const FAN = 200;

export const noopChain = pipeline({
  name: 'bench-noop-chain',
  description: 'a chain of no-op steps: dispatch latency',
  steps: Array.from({ length: CHAIN }, (_, i) => step({ name: `s${i}`, deps: i === 0 ? [] : [`s${i - 1}`], run: () => undefined })),
});

export const noopFan = pipeline({
  name: 'bench-noop-fan',
  description: 'independent no-op steps: throughput',
  steps: Array.from({ length: FAN }, (_, i) => step({ name: `s${i}`, run: () => undefined })),
});
