import { daily, definePipeline } from 'sluice';
import { retailParams } from './params.ts';

/** The retail pipeline's declaration; index.ts builds its steps from it. */
export const retail = definePipeline({
  name: 'retail',
  description: 'UCI Online Retail ELT: raw → staging → data vault → marts → quality, daily partitions',
  params: retailParams,
  partitions: daily({ start: '2010-12-01' }),
  schedules: [{ name: 'daily', cron: '0 1 * * *', timezone: 'UTC', partition: 'previous' }],
});

/** What every retail step and check gets, for the helpers in this folder. */
export type RetailContext = typeof retail.context;
