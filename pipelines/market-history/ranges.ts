/** A half-open range of open times [from, to) in milliseconds. */
export interface Range { readonly from: number; readonly to: number }

/**
 * The parts of [from, to) whose candles (every `step` ms) are not among `present`: what a
 * load still has to fetch. The table is the checkpoint: a load killed half way, run again,
 * asks only for what did not land.
 */
export function missingRanges(from: number, to: number, step: number, present: ReadonlySet<number>): Range[] {
  const out: Range[] = [];
  let start: number | null = null;
  for (let t = from; t < to; t += step) {
    if (present.has(t)) {
      if (start !== null) out.push({ from: start, to: t });
      start = null;
    } else if (start === null) start = t;
  }
  if (start !== null) out.push({ from: start, to });
  return out;
}

/** Ranges cut into pages of at most `limit` candles. */
export function pages(ranges: readonly Range[], step: number, limit: number): Range[] {
  return ranges.flatMap((r) => {
    const out: Range[] = [];
    for (let t = r.from; t < r.to; t += step * limit) out.push({ from: t, to: Math.min(r.to, t + step * limit) });
    return out;
  });
}
