/**
 * Exact decimal money: values are BigInt counts of 10^-12 units, so $0.0104 × 730 is 7.592 and a sum of
 * many lines equals its total to the last digit (binary floats drift: 0.1 + 0.2 !== 0.3).
 */
const SCALE_DIGITS = 12;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

export type Dec = bigint;

const DECIMAL = /^(-)?(\d{1,15})(?:\.(\d{1,12}))?$/;

/** "0.0104" → Dec; a number is read through its shortest decimal spelling. Anything else throws. */
export function dec(v: string | number): Dec {
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : 'NaN') : v.trim();
  const m = DECIMAL.exec(s);
  if (!m) throw new RangeError(`not a decimal number: ${JSON.stringify(v)}`);
  const [, sign, whole, frac = ''] = m as unknown as [string, string | undefined, string, string | undefined];
  const n = BigInt(whole) * SCALE + BigInt((frac ?? '').padEnd(SCALE_DIGITS, '0'));
  return sign ? -n : n;
}

export const isDecimal = (v: unknown): boolean => typeof v === 'string' && DECIMAL.test(v.trim());

export function mul(a: Dec, b: Dec): Dec {
  return (a * b) / SCALE;
}

export function sum(xs: Iterable<Dec>): Dec {
  let t = 0n;
  for (const x of xs) t += x;
  return t;
}

/** The exact value, without trailing zeros: 7.592, 0.8, -12. */
export function str(a: Dec): string {
  const neg = a < 0n;
  const abs = neg ? -a : a;
  const whole = abs / SCALE;
  const frac = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''}`;
}

/** Rounded half away from zero to `digits` places, always with them: 7.59, 0.80. */
export function fixed(a: Dec, digits = 2): string {
  const unit = 10n ** BigInt(SCALE_DIGITS - digits);
  const neg = a < 0n;
  const abs = neg ? -a : a;
  const rounded = (abs + unit / 2n) / unit;
  const s = rounded.toString().padStart(digits + 1, '0');
  const body = digits > 0 ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s;
  return `${neg && rounded !== 0n ? '-' : ''}${body}`;
}
