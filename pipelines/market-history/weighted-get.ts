import { fetchJson } from 'sluice';
import type { HistoryContext } from './market-history-pipeline.ts';
import { WeightBudget } from './weight-budget.ts';

const MAX_TRIES = 6;

/** The exchange's limit and window, from exchangeInfo (weight 1), so the budget fits whatever server this is. */
export async function budgetOf(ctx: HistoryContext): Promise<WeightBudget> {
  const r = await fetchJson(ctx.sources, `${ctx.params.baseUrl}/fapi/v1/exchangeInfo`, { signal: ctx.signal });
  const limits = (r.body as { rateLimits?: { rateLimitType: string; interval: string; intervalNum: number; limit: number }[] }).rateLimits ?? [];
  const weight = limits.find((l) => l.rateLimitType === 'REQUEST_WEIGHT');
  if (r.status !== 200 || !weight) throw new Error(`${ctx.params.baseUrl}/fapi/v1/exchangeInfo: HTTP ${r.status}, no REQUEST_WEIGHT rate limit in the answer`);
  const unit = { SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 }[weight.interval] ?? 60_000;
  return new WeightBudget({ limit: weight.limit, windowMs: unit * weight.intervalNum, share: ctx.params.weightShare });
}

/**
 * One GET of the exchange's REST API within the weight budget: waits for `weight` to fit,
 * tells the budget what the server counted, honours a 429's Retry-After (never a 418),
 * retries network and 5xx errors with backoff; a 4xx other than those fails at once.
 */
export async function weightedGet(ctx: HistoryContext, budget: WeightBudget, url: string, weight: number, symbol: string): Promise<unknown> {
  let last = '';
  for (let attempt = 1; attempt <= MAX_TRIES; attempt++) {
    await budget.acquire(weight, ctx.signal);
    let r;
    try {
      r = await fetchJson(ctx.sources, url, { signal: ctx.signal });
    } catch (err) {
      budget.settle(weight, 0, undefined, undefined);
      last = (err as Error).message;
      await new Promise((res) => setTimeout(res, 200 * 2 ** attempt));
      continue;
    }
    const used = Object.entries(r.headers).find(([k]) => k.startsWith('x-mbx-used-weight-'))?.[1];
    budget.settle(weight, r.status, used, r.headers['retry-after']);
    if (r.status === 200) return r.body;
    last = `HTTP ${r.status}: ${JSON.stringify(r.body).slice(0, 200)}`;
    if (r.status === 429 || r.status === 418) {
      ctx.log.warn(`market-history: ${symbol} rate limited (${r.status}), waiting ${r.headers['retry-after'] ?? '?'} s as asked`);
      attempt--;
      continue;
    }
    if (r.status >= 400 && r.status < 500) throw new Error(`${url}: ${last}`);
    await new Promise((res) => setTimeout(res, 200 * 2 ** attempt));
  }
  throw new Error(`${url}: failed ${MAX_TRIES} times, last: ${last}`);
}
