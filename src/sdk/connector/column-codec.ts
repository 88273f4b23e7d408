import { ValidationError } from '../../core/errors.ts';

/** A value that does not fit its column: the reason names the field and what was wrong. */
export class FieldError extends Error {}

/**
 * Turns one JSON value into ClickHouse's TabSeparated text for a column type, refusing what
 * the engine would refuse (or would silently change): a connector checks every record
 * before the batch is sent, so one bad record goes to the dead letters instead of failing
 * the insert of all the others. `nested` is the form inside arrays and tuples.
 */
export type Codec = (value: unknown, field: string, nested: boolean) => string;

const INT_RANGES: Record<string, [bigint, bigint]> = {
  Int8: [-(2n ** 7n), 2n ** 7n - 1n], Int16: [-(2n ** 15n), 2n ** 15n - 1n], Int32: [-(2n ** 31n), 2n ** 31n - 1n], Int64: [-(2n ** 63n), 2n ** 63n - 1n],
  UInt8: [0n, 2n ** 8n - 1n], UInt16: [0n, 2n ** 16n - 1n], UInt32: [0n, 2n ** 32n - 1n], UInt64: [0n, 2n ** 64n - 1n],
};

const fail = (field: string, why: string): never => {
  throw new FieldError(`${field}: ${why}`);
};

const show = (v: unknown) => {
  const text = JSON.stringify(v) ?? String(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
};

const NEEDS_ESCAPE = /[\\\t\n\r\0\b\f]/;

function escapeTsv(s: string): string {
  // Most values need nothing: test before building a new string.
  if (!NEEDS_ESCAPE.test(s)) return s;
  return s.replace(/[\\\t\n\r\0\b\f]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' })[c] as string);
}

function quote(s: string): string {
  return `'${s.replace(/[\\'\t\n\r\0]/g, (c) => ({ '\\': '\\\\', "'": "\\'", '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0' })[c] as string)}'`;
}

const text = (s: string, nested: boolean) => (nested ? quote(s) : escapeTsv(s));

function integer(type: string): Codec {
  const [min, max] = INT_RANGES[type] as [bigint, bigint];
  // A JSON number is a safe integer or not an exact one: compare it as a number (BigInt only for strings).
  const lo = Number(min);
  const hi = Number(max);
  return (v, field) => {
    if (typeof v === 'number' && Number.isSafeInteger(v)) {
      if (v < lo || v > hi) fail(field, `${v} is out of range for ${type}`);
      return String(v);
    }
    if (typeof v !== 'string' || !/^-?\d{1,20}$/.test(v)) return fail(field, `expected an integer (${type}), got ${show(v)}`);
    const n = BigInt(v);
    if (n < min || n > max) fail(field, `${n} is out of range for ${type}`);
    return n.toString();
  };
}

const float: Codec = (v, field) => {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return String(Number(v));
  return fail(field, `expected a finite number, got ${show(v)}`);
};

/** Exact: a decimal string is kept digit for digit; a JSON number only when it has no more digits than the scale allows. */
function decimal(precision: number, scale: number): Codec {
  const wholeMax = precision - scale;
  return (v, field) => {
    const s = typeof v === 'number' && Number.isFinite(v) ? String(v) : typeof v === 'string' ? v.trim() : '';
    // One pass over the characters: [-]digits[.digits], leading zeros not counted.
    let i = s.charCodeAt(0) === 45 ? 1 : 0;
    let whole = 0;
    let frac = -1;
    let leading = true;
    const start = i;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 46 && frac < 0 && i > start) frac = 0;
      else if (c < 48 || c > 57) return fail(field, `expected a decimal number (Decimal(${precision}, ${scale})), got ${show(v)}`);
      else if (frac >= 0) frac++;
      else if (!(leading && c === 48)) {
        leading = false;
        whole++;
      }
    }
    if (i === start || frac === 0) return fail(field, `expected a decimal number (Decimal(${precision}, ${scale})), got ${show(v)}`);
    if (frac > scale) fail(field, `${s} has ${frac} decimals, the column keeps ${scale}`);
    if (whole > wholeMax) fail(field, `${s} has too many digits for Decimal(${precision}, ${scale})`);
    return s;
  };
}

/** Unix seconds with the fraction: the one text form a DateTime column reads the same in every time zone. */
function instant(digits: number): Codec {
  return (v, field, nested) => {
    let ms: number;
    if (typeof v === 'number' && Number.isFinite(v)) ms = v;
    else if (typeof v === 'string' && /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(v)) ms = Date.parse(v.replace(' ', 'T'));
    else return fail(field, `expected epoch milliseconds or an ISO time with its offset, got ${show(v)}`);
    if (!Number.isFinite(ms) || ms < 0 || ms > 4_102_444_800_000) fail(field, `${show(v)} is not a time between 1970 and 2100`);
    const whole = Math.floor(ms / 1000);
    const out = digits === 0 ? String(whole) : `${whole}.${String(Math.round(ms - whole * 1000)).padStart(3, '0').slice(0, Math.min(3, digits))}`;
    return nested ? quote(out) : out;
  };
}

const date: Codec = (v, field, nested) => {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\d$/.test(v) || Number.isNaN(Date.parse(v))) return fail(field, `expected a date YYYY-MM-DD, got ${show(v)}`);
  return nested ? quote(v) : v;
};

const bool: Codec = (v, field) => (typeof v === 'boolean' ? (v ? 'true' : 'false') : fail(field, `expected true or false, got ${show(v)}`));

const string: Codec = (v, field, nested) => {
  if (typeof v === 'string') return text(v, nested);
  if (typeof v === 'number' || typeof v === 'boolean') return text(String(v), nested);
  return fail(field, `expected a string, got ${show(v)}`);
};

/** Splits `A, B(C, D), 'x,y'` at its top-level commas. */
function splitArgs(args: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < args.length; i++) {
    const c = args[i];
    if (c === "'" && args[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      out.push(args.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(args.slice(start).trim());
  return out.filter((a) => a !== '');
}

/** The codec for a type as `DESCRIBE TABLE` prints it; a type it does not know is refused up front. */
export function codecFor(type: string, column: string): Codec {
  const m = /^(\w+)(?:\((.*)\))?$/s.exec(type.trim());
  if (!m) throw new ValidationError(`column ${column}: cannot read its type ${type}`, column);
  const [, name, rawArgs] = m as unknown as [string, string, string | undefined];
  const args = rawArgs === undefined ? [] : splitArgs(rawArgs);
  if (name in INT_RANGES) return integer(name);
  switch (name) {
    case 'String':
    case 'FixedString':
    case 'UUID':
      return string;
    case 'Float32':
    case 'Float64':
      return float;
    case 'Bool':
      return bool;
    case 'Date':
    case 'Date32':
      return date;
    case 'DateTime':
      return instant(0);
    case 'DateTime64':
      return instant(Number(args[0] ?? 3));
    case 'Decimal':
      return decimal(Number(args[0]), Number(args[1] ?? 0));
    case 'Decimal32':
    case 'Decimal64':
    case 'Decimal128':
    case 'Decimal256':
      return decimal({ Decimal32: 9, Decimal64: 18, Decimal128: 38, Decimal256: 76 }[name], Number(args[0]));
    case 'LowCardinality':
      return codecFor(args[0] ?? '', column);
    case 'Nullable': {
      const inner = codecFor(args[0] ?? '', column);
      return (v, field, nested) => (v === null || v === undefined ? (nested ? 'NULL' : '\\N') : inner(v, field, nested));
    }
    case 'Array': {
      const inner = codecFor(args[0] ?? '', column);
      return (v, field) => {
        if (!Array.isArray(v)) return fail(field, `expected an array, got ${show(v)}`);
        return `[${v.map((x, i) => inner(x, `${field}[${i}]`, true)).join(',')}]`;
      };
    }
    case 'Tuple': {
      // Named elements print as `name Type`.
      const inner = args.map((a) => codecFor(/^[a-z_]\w*\s+[A-Z]/.test(a) ? a.replace(/^\S+\s+/, '') : a, column));
      return (v, field) => {
        if (!Array.isArray(v) || v.length !== inner.length) return fail(field, `expected a tuple of ${inner.length} values, got ${show(v)}`);
        return `(${v.map((x, i) => (inner[i] as Codec)(x, `${field}[${i}]`, true)).join(',')})`;
      };
    }
    default:
      throw new ValidationError(`column ${column}: the connector cannot write type ${type} (supported: integers, floats, Decimal, String, Bool, Date, DateTime, DateTime64, Nullable, LowCardinality, Array, Tuple)`, column);
  }
}
