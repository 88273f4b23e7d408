/**
 * Exact sums of decimal strings as the exchange writes them ("242160.4", "25142.90126"), so
 * an aggregated kline's volume is the digits the exchange would print, not a float's guess.
 * The result has as many decimals as the most precise addend.
 */
export function sumDecimals(values: readonly string[]): string {
  let scale = 0;
  for (const v of values) scale = Math.max(scale, decimalsOf(v));
  let total = 0n;
  for (const v of values) total += scaled(v, scale);
  return format(total, scale);
}

/** The larger / smaller of two decimal strings, compared exactly. */
export function maxDecimal(a: string, b: string): string {
  const s = Math.max(decimalsOf(a), decimalsOf(b));
  return scaled(a, s) >= scaled(b, s) ? a : b;
}

export function minDecimal(a: string, b: string): string {
  return maxDecimal(a, b) === a ? b : a;
}

function decimalsOf(v: string): number {
  const dot = v.indexOf('.');
  return dot < 0 ? 0 : v.length - dot - 1;
}

function scaled(v: string, scale: number): bigint {
  if (!/^-?\d+(\.\d+)?$/.test(v)) throw new Error(`not a decimal number: ${JSON.stringify(v.slice(0, 40))}`);
  const negative = v.startsWith('-');
  const [int, frac = ''] = (negative ? v.slice(1) : v).split('.');
  const n = BigInt(int! + frac.padEnd(scale, '0'));
  return negative ? -n : n;
}

function format(n: bigint, scale: number): string {
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return negative ? `-${text}` : text;
}
