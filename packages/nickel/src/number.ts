/**
 * Exact rational numbers with Nickel's semantics (Nickel numbers are arbitrary-precision rationals:
 * `0.1 + 0.2 == 0.3`, `1/3` is exact).
 *
 * Behaviour taken from nickel-lang/nickel (core/src/eval/operation.rs, core/src/serialize/mod.rs,
 * core/src/eval/value/mod.rs `to_nickel_string`, core/stdlib/std.ncl) and from the libraries it
 * relies on: malachite (`ToSci`, `FromSciString`, `try_from_float_simplest`) and ryu/serde_json.
 * No code was copied; see number.test.ts for the cited behaviours.
 */

/** Which Nickel error an evaluator should raise for a {@link NumError}. */
export type NumErrorNickelKind = 'EvalError::Other' | 'ExportError::NumberOutOfRange';

export type NumErrorKind =
  | 'DivisionByZero'
  | 'NumberOutOfRange'
  | 'NotRepresentable'
  | 'InvalidNumberLiteral'
  | 'TooLarge';

/** Base class of the errors raised by {@link Num}. `nickelKind` is the Nickel error kind to report. */
export class NumError extends Error {
  readonly kind: NumErrorKind;
  readonly nickelKind: NumErrorNickelKind;
  readonly notes: string[];

  constructor(
    kind: NumErrorKind,
    message: string,
    nickelKind: NumErrorNickelKind = 'EvalError::Other',
    notes: string[] = [],
  ) {
    super(message);
    this.name = 'NumError';
    this.kind = kind;
    this.nickelKind = nickelKind;
    this.notes = notes;
  }
}

/** `x / 0` ("division by zero") and `x % 0` ("division by zero (%)"): EvalError::Other in Nickel. */
export class DivisionByZeroError extends NumError {
  constructor(message = 'division by zero') {
    super('DivisionByZero', message);
    this.name = 'DivisionByZeroError';
  }
}

/** Export of a number outside the f64 range: ExportError::NumberOutOfRange in Nickel. */
export class NumberOutOfRangeError extends NumError {
  readonly value: Num;

  constructor(value: Num) {
    super(
      'NumberOutOfRange',
      `The number ${value.toNickelString()} is too large (in absolute value) to be serialized.`,
      'ExportError::NumberOutOfRange',
      ['Only numbers in the range -1.7976931348623157e308 to 1.7976931348623157e308 can be portably serialized'],
    );
    this.name = 'NumberOutOfRangeError';
    this.value = value;
  }
}

/** An f64 computation (pow with a non-integer exponent, log, sin...) returned NaN or ±infinity. */
export class NotRepresentableError extends NumError {
  constructor(message: string) {
    super('NotRepresentable', message);
    this.name = 'NotRepresentableError';
  }
}

/** A string that is not a valid number (std.string.to_number, or a bad literal handed to parseLiteral). */
export class InvalidNumberLiteralError extends NumError {
  constructor(message: string) {
    super('InvalidNumberLiteral', message);
    this.name = 'InvalidNumberLiteralError';
  }
}

// ---------------------------------------------------------------------------------------------
// bigint helpers

const TWO_POW_53 = 1n << 53n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const U64_MAX = (1n << 64n) - 1n;
/** Exponents beyond this are refused instead of building a gigantic power of ten. */
const MAX_DECIMAL_EXPONENT = 10_000_000;
/** Results of exact `pow` beyond this many bits are refused (about 16 MB). */
const MAX_POW_BITS = 1n << 27n;

function babs(x: bigint): bigint {
  return x < 0n ? -x : x;
}

function gcd(a: bigint, b: bigint): bigint {
  let x = babs(a);
  let y = babs(b);
  while (y !== 0n) {
    const t = x % y;
    x = y;
    y = t;
  }
  return x;
}

function bitLength(x: bigint): number {
  return x === 0n ? 0 : babs(x).toString(2).length;
}

const POW10_CACHE: bigint[] = [];
function pow10(k: number): bigint {
  if (k < 64) {
    let v = POW10_CACHE[k];
    if (v === undefined) {
      v = 10n ** BigInt(k);
      POW10_CACHE[k] = v;
    }
    return v;
  }
  return 10n ** BigInt(k);
}

/** Rounds num/den (den > 0, num >= 0) to the nearest integer, ties to even (malachite `Nearest`). */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const r2 = (num % den) * 2n;
  if (r2 > den || (r2 === den && (q & 1n) === 1n)) return q + 1n;
  return q;
}

// ---------------------------------------------------------------------------------------------
// f64 helpers

const F64_VIEW = new DataView(new ArrayBuffer(8));

function f64Bits(x: number): bigint {
  F64_VIEW.setFloat64(0, x);
  return (BigInt(F64_VIEW.getUint32(0)) << 32n) | BigInt(F64_VIEW.getUint32(4));
}

/** The exact value of a non-negative finite f64 given by its bits, as [numerator, denominator]. */
function ratFromF64Bits(bits: bigint): [bigint, bigint] {
  const expBits = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const m = expBits === 0 ? frac : frac | (1n << 52n);
  const e = expBits === 0 ? -1074 : expBits - 1075;
  if (m === 0n) return [0n, 1n];
  if (e >= 0) return [m << BigInt(e), 1n];
  const d = 1n << BigInt(-e);
  const g = gcd(m, d);
  return [m / g, d / g];
}

/** Correctly rounded (nearest, ties to even) f64 of a/b with a > 0, b > 0. */
function ratioToF64(a: bigint, b: bigint): number {
  if (a <= TWO_POW_53 && b <= TWO_POW_53) return Number(a) / Number(b); // IEEE division rounds correctly
  const s = 55 - (bitLength(a) - bitLength(b)); // makes the quotient 55 or 56 bits long
  const num = s >= 0 ? a << BigInt(s) : a;
  const den = s >= 0 ? b : b << BigInt(-s);
  const q = num / den;
  const sticky = num % den !== 0n;
  const e = bitLength(q) - 1 - s; // value in [2^e, 2^(e+1))
  if (e > 1023) return Number.POSITIVE_INFINITY;
  const ulpExp = Math.max(e - 52, -1074);
  const k = BigInt(ulpExp + s); // bits of q below the last kept bit (always >= 2)
  let m = q >> k;
  const rem = q & ((1n << k) - 1n);
  const half = 1n << (k - 1n);
  if (rem > half || (rem === half && (sticky || (m & 1n) === 1n))) m += 1n;
  return Number(m) * 2 ** ulpExp;
}

/**
 * The simplest rational (smallest denominator, then smallest numerator) in the open interval (lo, hi),
 * 0 <= lo < hi, via the continued-fraction walk of the Stern-Brocot tree.
 */
function simplestInOpenInterval(loN: bigint, loD: bigint, hiN: bigint, hiD: bigint): [bigint, bigint] {
  const terms: bigint[] = [];
  let ln = loN;
  let ld = loD;
  let hn: bigint | null = hiN;
  let hd = hiD;
  for (;;) {
    const fl = ln / ld;
    if (hn === null || (fl + 1n) * hd < hn) {
      terms.push(fl + 1n);
      break;
    }
    terms.push(fl);
    // New interval: (1 / (hi - fl), 1 / (lo - fl)); the upper bound is infinite when lo is an integer.
    const loRestN = ln - fl * ld;
    const hiRestN: bigint = hn - fl * hd;
    const nextLoN = hd;
    const nextLoD = hiRestN;
    if (loRestN === 0n) {
      hn = null;
    } else {
      hn = ld;
      hd = loRestN;
    }
    ln = nextLoN;
    ld = nextLoD;
  }
  let p = terms[terms.length - 1] as bigint;
  let q = 1n;
  for (let i = terms.length - 2; i >= 0; i--) {
    const t = terms[i] as bigint;
    const np = t * p + q;
    q = p;
    p = np;
  }
  return [p, q];
}

/**
 * Rust/ryu (serde_json, serde_yaml) text of a finite f64: shortest round-trip digits, `1e21` style
 * exponents (no `+`), plain notation when the integer part has at most 16 digits or the value is at
 * least 1e-5, and a `.0` suffix on integral values.
 */
export function formatF64Ryu(x: number): string {
  if (!Number.isFinite(x)) throw new NotRepresentableError(`cannot format ${x}`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const { digits, exp } = shortestDigits(Math.abs(x));
  const length = digits.length;
  const kk = exp + 1; // 10^(kk-1) <= |x| < 10^kk
  const k = kk - length;
  let body: string;
  if (k >= 0 && kk <= 16) body = `${digits}${'0'.repeat(k)}.0`;
  else if (kk > 0 && kk <= 16) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else if (kk > -5 && kk <= 0) body = `0.${'0'.repeat(-kk)}${digits}`;
  else if (length === 1) body = `${digits}e${kk - 1}`;
  else body = `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
  return sign + body;
}

/**
 * Rust `Display` text of a finite f64 as the `toml` crate writes it: shortest round-trip digits,
 * never an exponent, and `.0` appended to integral values.
 */
export function formatF64Toml(x: number): string {
  if (!Number.isFinite(x)) throw new NotRepresentableError(`cannot format ${x}`);
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const { digits, exp } = shortestDigits(Math.abs(x));
  const kk = exp + 1;
  let body: string;
  if (kk >= digits.length) body = `${digits}${'0'.repeat(kk - digits.length)}.0`;
  else if (kk > 0) body = `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  else body = `0.${'0'.repeat(-kk)}${digits}`;
  return sign + body;
}

/**
 * Shortest round-trip decimal digits of a positive finite f64, as `digits` (no leading or trailing zeros)
 * and the decimal exponent of the first digit. ECMAScript's Number::toString picks, like ryu, the shortest
 * digits and among those the closest to the exact value.
 */
function shortestDigits(x: number): { digits: string; exp: number } {
  const s = String(x); // "123.456", "1e+21", "1.5e-7", "0.000001", "100000000000000000000"
  const ePos = s.indexOf('e');
  const mantissa = ePos < 0 ? s : s.slice(0, ePos);
  const exp10 = ePos < 0 ? 0 : Number(s.slice(ePos + 1));
  const dot = mantissa.indexOf('.');
  const intLen = dot < 0 ? mantissa.length : dot;
  const all = dot < 0 ? mantissa : mantissa.slice(0, dot) + mantissa.slice(dot + 1);
  let lead = 0;
  while (lead < all.length - 1 && all[lead] === '0') lead++;
  return { digits: all.slice(lead).replace(/0+$/, ''), exp: intLen + exp10 - lead - 1 };
}

const DECIMAL_LITERAL = /^([0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$/;
const NUMBER_STRING = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;
/** `std.string.NumberLiteral` (std.ncl): Rust regex, where `\d` means any Unicode decimal digit. */
const NUMBER_LITERAL_CONTRACT = /^[+-]?(\p{Nd}+(\.\p{Nd}*)?(e[+-]?\p{Nd}+)?|\.\p{Nd}+(e[+-]?\p{Nd}+)?)$/u;

// ---------------------------------------------------------------------------------------------

/** An exact rational number: `n / d` with `d > 0` and `gcd(n, d) == 1`. Immutable. */
export class Num {
  readonly n: bigint;
  readonly d: bigint;

  private constructor(n: bigint, d: bigint) {
    this.n = n;
    this.d = d;
  }

  static readonly ZERO: Num = new Num(0n, 1n);
  static readonly ONE: Num = new Num(1n, 1n);
  static readonly MINUS_ONE: Num = new Num(-1n, 1n);
  /** The largest finite f64 (1.7976931348623157e308), exactly. */
  static readonly F64_MAX: Num = new Num(((1n << 53n) - 1n) << 971n, 1n);

  private static readonly SMALL: Num[] = Array.from({ length: 1281 }, (_, i) => new Num(BigInt(i - 256), 1n));

  private static int(n: bigint): Num {
    if (n >= -256n && n <= 1024n) return Num.SMALL[Number(n) + 256] as Num;
    return new Num(n, 1n);
  }

  /** Normalizes a fraction (any signs, d != 0). */
  private static make(n: bigint, d: bigint): Num {
    if (d === 1n) return Num.int(n);
    if (d < 0n) {
      n = -n;
      d = -d;
    }
    const g = gcd(n, d);
    if (g !== 1n) {
      n /= g;
      d /= g;
    }
    return d === 1n ? Num.int(n) : new Num(n, d);
  }

  /** An integer (a JS number must be a safe integer). */
  static of(value: number | bigint): Num {
    if (typeof value === 'bigint') return Num.int(value);
    if (!Number.isSafeInteger(value)) throw new RangeError(`Num.of expects a safe integer, got ${value}`);
    return Num.int(BigInt(value));
  }

  /** n / d, reduced. Throws DivisionByZeroError when d is 0. */
  static fraction(n: number | bigint, d: number | bigint): Num {
    const bn = typeof n === 'bigint' ? n : BigInt(n);
    const bd = typeof d === 'bigint' ? d : BigInt(d);
    if (bd === 0n) throw new DivisionByZeroError();
    return Num.make(bn, bd);
  }

  static isNum(value: unknown): value is Num {
    return value instanceof Num;
  }

  /**
   * A Nickel number literal without sign, exactly: decimal `[0-9]*\.?[0-9]+([eE][+-]?[0-9]+)?` (`1`, `6.8`,
   * `.5`, `1e+3`, `2e-3`, `1.5E10`), or `0x[0-9a-fA-F]+`, `0o[0-7]+`, `0b[01]+` (lexer regexes of Nickel).
   */
  static parseLiteral(text: string): Num {
    if (text.length > 2 && text[0] === '0') {
      const radix = text[1];
      const digits = text.slice(2);
      if (radix === 'x' && /^[0-9a-fA-F]+$/.test(digits)) return Num.int(BigInt(`0x${digits}`));
      if (radix === 'o' && /^[0-7]+$/.test(digits)) return Num.int(BigInt(`0o${digits}`));
      if (radix === 'b' && /^[01]+$/.test(digits)) return Num.int(BigInt(`0b${digits}`));
    }
    const m = DECIMAL_LITERAL.exec(text);
    if (!m || (m[1] === '' && m[2] === undefined))
      throw new InvalidNumberLiteralError(`invalid number literal \`${text}\``);
    return Num.fromDecimalParts(false, m[1] ?? '', m[2] ?? '', m[3], text);
  }

  /**
   * `std.string.to_number` (primop `number/from_string`, malachite `Rational::from_sci_string`): an optional
   * sign, ASCII digits with an optional `.` (`5.`, `.5`, `+.5` are accepted), an optional exponent with `e`
   * or `E` and an optional sign. Exact. Throws InvalidNumberLiteralError with Nickel's message otherwise.
   * Note that std.ncl also applies the `NumberLiteral` contract first (see {@link Num.isNumberLiteral}).
   */
  static parseNumberString(s: string): Num {
    const m = NUMBER_STRING.exec(s);
    const intPart = m?.[2] ?? '';
    const fracPart = m?.[3] ?? '';
    if (!m || intPart.length + fracPart.length === 0) {
      throw new InvalidNumberLiteralError(`number/from_string: invalid number literal \`${s}\``);
    }
    const exp = m[4];
    if (exp !== undefined) {
      const e = BigInt(exp);
      if (e < I64_MIN || e > I64_MAX) {
        throw new InvalidNumberLiteralError(`number/from_string: invalid number literal \`${s}\``);
      }
    }
    return Num.fromDecimalParts(m[1] === '-', intPart, fracPart, exp, s);
  }

  /** The `std.string.NumberLiteral` contract's test (a Rust regex: `\d` is any Unicode decimal digit). */
  static isNumberLiteral(s: string): boolean {
    return NUMBER_LITERAL_CONTRACT.test(s);
  }

  private static fromDecimalParts(
    neg: boolean,
    intPart: string,
    fracPart: string,
    exp: string | undefined,
    src: string,
  ) {
    const e = (exp === undefined ? 0 : Number(exp)) - fracPart.length;
    if (!Number.isFinite(e) || Math.abs(e) > MAX_DECIMAL_EXPONENT) {
      throw new NumError('TooLarge', `number literal \`${src}\` has an exponent too large to be handled`);
    }
    let mant = BigInt(`${intPart}${fracPart}` || '0');
    if (neg) mant = -mant;
    if (mant === 0n) return Num.ZERO;
    return e >= 0 ? Num.int(mant * pow10(e)) : Num.make(mant, pow10(-e));
  }

  /**
   * The simplest rational that rounds to the f64 `x` (malachite `try_from_float_simplest`, used by Nickel
   * for JSON/YAML/TOML floats and for the results of f64 operations): JSON `0.1` becomes exactly 1/10.
   * Throws NotRepresentableError for NaN and infinities.
   */
  static fromF64(x: number): Num {
    if (!Number.isFinite(x)) {
      throw new NotRepresentableError(`${x} isn't representable in Nickel (no NaN nor infinity)`);
    }
    if (x === 0) return Num.ZERO;
    if (Number.isSafeInteger(x)) return Num.int(BigInt(x));
    const neg = x < 0;
    const bits = f64Bits(Math.abs(x));
    const [qn, qd] = ratFromF64Bits(bits);
    let n: bigint;
    let d: bigint;
    if (qd <= 2n) {
      n = qn;
      d = qd;
    } else {
      const [pn, pd] = ratFromF64Bits(bits - 1n);
      const [sn, sd] = ratFromF64Bits(bits + 1n);
      // Open interval ((pred + x) / 2, (succ + x) / 2).
      [n, d] = simplestInOpenInterval(pn * qd + qn * pd, 2n * pd * qd, sn * qd + qn * sd, 2n * sd * qd);
    }
    return Num.make(neg ? -n : n, d);
  }

  /**
   * A JSON number as Nickel's serde_json import reads it: an integer literal that fits i64/u64 is exact,
   * anything else goes through f64 and {@link Num.fromF64}.
   */
  static fromJsonNumber(text: string): Num {
    if (/^-?[0-9]+$/.test(text)) {
      const v = BigInt(text);
      if (v >= I64_MIN && v <= U64_MAX) return Num.int(v);
    }
    return Num.fromF64(Number(text));
  }

  // --- predicates and comparisons -----------------------------------------------------------

  isInteger(): boolean {
    return this.d === 1n;
  }

  isZero(): boolean {
    return this.n === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.n < 0n ? -1 : this.n > 0n ? 1 : 0;
  }

  cmp(o: Num): -1 | 0 | 1 {
    if (this.d === o.d) return this.n < o.n ? -1 : this.n > o.n ? 1 : 0;
    const a = this.n * o.d;
    const b = o.n * this.d;
    return a < b ? -1 : a > b ? 1 : 0;
  }

  static compare(a: Num, b: Num): -1 | 0 | 1 {
    return a.cmp(b);
  }

  eq(o: Num): boolean {
    return this.n === o.n && this.d === o.d;
  }

  lt(o: Num): boolean {
    return this.cmp(o) < 0;
  }

  le(o: Num): boolean {
    return this.cmp(o) <= 0;
  }

  gt(o: Num): boolean {
    return this.cmp(o) > 0;
  }

  ge(o: Num): boolean {
    return this.cmp(o) >= 0;
  }

  /** `std.number.min`: the first argument when equal. */
  min(o: Num): Num {
    return this.le(o) ? this : o;
  }

  /** `std.number.max`: the first argument when equal. */
  max(o: Num): Num {
    return this.ge(o) ? this : o;
  }

  /** A string key, equal for equal numbers (for Maps and Sets). */
  get key(): string {
    return this.d === 1n ? this.n.toString() : `${this.n}/${this.d}`;
  }

  // --- arithmetic ---------------------------------------------------------------------------

  add(o: Num): Num {
    if (this.d === 1n && o.d === 1n) return Num.int(this.n + o.n);
    if (this.d === o.d) return Num.make(this.n + o.n, this.d);
    return Num.make(this.n * o.d + o.n * this.d, this.d * o.d);
  }

  sub(o: Num): Num {
    if (this.d === 1n && o.d === 1n) return Num.int(this.n - o.n);
    if (this.d === o.d) return Num.make(this.n - o.n, this.d);
    return Num.make(this.n * o.d - o.n * this.d, this.d * o.d);
  }

  mul(o: Num): Num {
    if (this.d === 1n && o.d === 1n) return Num.int(this.n * o.n);
    if (this.n === 0n || o.n === 0n) return Num.ZERO;
    // Cross-cancel first: the result is then already reduced.
    const g1 = gcd(this.n, o.d);
    const g2 = gcd(o.n, this.d);
    const n = (this.n / g1) * (o.n / g2);
    const d = (this.d / g2) * (o.d / g1);
    return d === 1n ? Num.int(n) : new Num(n, d);
  }

  /** Exact division. Throws DivisionByZeroError ("division by zero"), EvalError::Other in Nickel. */
  div(o: Num): Num {
    if (o.n === 0n) throw new DivisionByZeroError('division by zero');
    if (o.d === 1n && this.d === 1n) return Num.make(this.n, o.n);
    return this.mul(o.n < 0n ? new Num(-o.d, -o.n) : new Num(o.d, o.n));
  }

  /**
   * Nickel's `%`: the remainder of the division truncated toward zero, `a - trunc(a / b) * b`. It has the
   * sign of `a` and works on fractions: `-7 % 2 == -1`, `7 % -2 == 1`, `(10 + 1/4) % 3 == 1.25`,
   * `-13.37 % 1 == -0.37`. Throws DivisionByZeroError ("division by zero (%)") when b is 0.
   */
  mod(o: Num): Num {
    if (o.n === 0n) throw new DivisionByZeroError('division by zero (%)');
    if (this.d === 1n && o.d === 1n) return Num.int(this.n % o.n);
    const q = (this.n * o.d) / (this.d * o.n); // bigint division truncates toward zero
    return this.sub(o.mul(Num.int(q)));
  }

  neg(): Num {
    return this.n === 0n ? this : this.d === 1n ? Num.int(-this.n) : new Num(-this.n, this.d);
  }

  abs(): Num {
    return this.n < 0n ? this.neg() : this;
  }

  /** `std.number.floor`: toward negative infinity. */
  floor(): Num {
    if (this.d === 1n) return this;
    const q = this.n / this.d;
    return Num.int(this.n < 0n ? q - 1n : q);
  }

  /** `std.number.ceil`: toward positive infinity. */
  ceil(): Num {
    if (this.d === 1n) return this;
    const q = this.n / this.d;
    return Num.int(this.n > 0n ? q + 1n : q);
  }

  /** `std.number.truncate` (`x - x % 1`): toward zero. */
  truncate(): Num {
    return this.d === 1n ? this : Num.int(this.n / this.d);
  }

  /** `std.number.fract` (`x % 1`): the fractional part, with the sign of x (`fract (-13.37) == -0.37`). */
  fract(): Num {
    return this.d === 1n ? Num.ZERO : new Num(this.n % this.d, this.d);
  }

  /**
   * `std.number.pow` (primop `pow`): exact when the exponent is an integer in the i64 range (a negative
   * exponent inverts; `0` to a negative power throws DivisionByZeroError). Otherwise both operands go to
   * f64, `Math.pow` is applied and the result comes back through {@link Num.fromF64} (NaN/infinity throw
   * NotRepresentableError, EvalError::Other in Nickel).
   */
  pow(e: Num): Num {
    if (e.d === 1n && e.n >= I64_MIN && e.n <= I64_MAX) {
      const k = e.n;
      if (k === 0n) return Num.ONE;
      if (this.n === 0n) {
        if (k < 0n) throw new DivisionByZeroError('division by zero');
        return Num.ZERO;
      }
      if (this.d === 1n && (this.n === 1n || this.n === -1n)) return (k & 1n) === 0n ? Num.ONE : this;
      const ak = babs(k);
      if (BigInt(bitLength(this.n) + bitLength(this.d)) * ak > MAX_POW_BITS) {
        throw new NumError('TooLarge', `${this.toNickelString()}^${e.toNickelString()} is too large to be computed`);
      }
      let n = this.n ** ak;
      let d = this.d ** ak;
      if (k < 0n) [n, d] = n < 0n ? [-d, -n] : [d, n];
      return d === 1n ? Num.int(n) : new Num(n, d);
    }
    const r = this.toF64() ** e.toF64();
    if (!Number.isFinite(r)) {
      throw new NotRepresentableError(
        `invalid arithmetic operation: ${this.toNickelString()}^${e.toNickelString()} returned ${rustF64(r)}, ` +
          `but ${rustF64(r)} isn't representable in Nickel`,
      );
    }
    return Num.fromF64(r);
  }

  /**
   * Applies an f64 function (std.number.log, sin, cos, tan, arcsin, arccos, arctan, arctan2) the way Nickel
   * does: arguments rounded to the nearest f64, result converted back with {@link Num.fromF64}.
   * `describe` names the operation in the error message (e.g. `number/log(0, 10)`).
   */
  static fromF64Result(result: number, describe: string): Num {
    if (!Number.isFinite(result)) {
      throw new NotRepresentableError(
        `invalid arithmetic operation: ${describe} returned ${rustF64(result)}, ` +
          `but ${rustF64(result)} isn't representable in Nickel`,
      );
    }
    return Num.fromF64(result);
  }

  /** `std.number.log x base`: log2 and log10 for bases 2 and 10, else ln(x) / ln(base), all in f64. */
  log(base: Num): Num {
    const x = this.toF64();
    let r: number;
    if (base.eq(Num.of(2))) r = Math.log2(x);
    else if (base.eq(Num.of(10))) r = Math.log10(x);
    else r = Math.log(x) / Math.log(base.toF64());
    return Num.fromF64Result(r, `number/log(${this.toNickelString()}, ${base.toNickelString()})`);
  }

  // --- conversions --------------------------------------------------------------------------

  /** The nearest f64 (ties to even); ±Infinity beyond the f64 range. */
  toF64(): number {
    if (this.n === 0n) return 0;
    if (this.d === 1n && this.n >= -TWO_POW_53 && this.n <= TWO_POW_53) return Number(this.n);
    const v = ratioToF64(babs(this.n), this.d);
    return this.n < 0n ? -v : v;
  }

  /** The bigint value of an integer, undefined otherwise. */
  toBigInt(): bigint | undefined {
    return this.d === 1n ? this.n : undefined;
  }

  /** The JS number of a safe integer (array indices, lengths...), undefined otherwise. */
  toSafeInteger(): number | undefined {
    if (this.d !== 1n) return undefined;
    const v = Number(this.n);
    return Number.isSafeInteger(v) ? v : undefined;
  }

  /** Whether `std.serialize`/export accepts the number (|x| <= f64::MAX, compared exactly). */
  inF64Range(): boolean {
    const a = this.abs();
    return a.d === 1n ? a.n <= Num.F64_MAX.n : a.n <= Num.F64_MAX.n * a.d;
  }

  /**
   * What Nickel prints for string interpolation, `std.to_string` and `std.string.from_number`: malachite
   * `ToSci` with default options. 16 significant digits, rounded to nearest (ties to even), trailing zeros
   * removed; `e` notation when the decimal exponent is <= -6 or >= 16 (`1454.85`, `0.3333333333333333`,
   * `0.00001`, `1e-6`, `1.5e-7`, `1000000000000000`, `1e16`, `1.234567890123457e16`, `1e400`).
   */
  toNickelString(): string {
    const n = this.n;
    if (this.d === 1n && n > -10_000_000_000_000_000n && n < 10_000_000_000_000_000n) return n.toString();
    if (n === 0n) return '0';
    const a = babs(n);
    const b = this.d;
    // log = floor(log10(a / b))
    let log = a.toString().length - b.toString().length;
    if (log >= 0 ? a < b * pow10(log) : a * pow10(-log) < b) log -= 1;
    let scale = 15 - log;
    let digits = (scale >= 0 ? roundHalfEven(a * pow10(scale), b) : roundHalfEven(a, b * pow10(-scale))).toString();
    if (digits.length === 17) {
      // Rounded up to a power of ten.
      log += 1;
      scale -= 1;
      digits = digits.slice(0, 16);
    }
    let out: string;
    if (log <= -6 || scale < 0) {
      digits = digits.replace(/0+$/, '');
      out = `${digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits}e${log}`;
    } else if (scale === 0) {
      out = digits;
    } else {
      let cut = digits.length;
      const stop = digits.length - Math.min(scale, digits.length);
      while (cut > stop && digits[cut - 1] === '0') cut--;
      digits = digits.slice(0, cut);
      if (log < 0) out = `0.${'0'.repeat(-log - 1)}${digits}`;
      else if (digits.length > log + 1) out = `${digits.slice(0, log + 1)}.${digits.slice(log + 1)}`;
      else out = digits;
    }
    return n < 0n ? `-${out}` : out;
  }

  toString(): string {
    return this.toNickelString();
  }

  /**
   * The number as JSON/YAML export writes it (serde_json/serde_yaml): an integer that fits i64 (negative)
   * or u64 (non-negative) is written exactly; anything else as the nearest f64 in ryu's form
   * ({@link formatF64Ryu}: `0.1`, `1e21`, `1.5e-7`, `1.8446744073709552e19`). Throws NumberOutOfRangeError
   * (ExportError::NumberOutOfRange) when |x| > f64::MAX.
   */
  toExportJson(): string {
    const exact = this.exportInteger();
    if (exact !== undefined) return exact;
    if (!this.inF64Range()) throw new NumberOutOfRangeError(this);
    return formatF64Ryu(this.toF64());
  }

  /**
   * Best-effort TOML export text (the `toml` crate): integers that fit i64/u64 exactly, other numbers
   * as the nearest f64 in Rust `Display` form, never with an exponent, `.0` on integral values.
   * Throws NumberOutOfRangeError when |x| > f64::MAX.
   */
  toExportToml(): string {
    const exact = this.exportInteger();
    if (exact !== undefined) return exact;
    if (!this.inF64Range()) throw new NumberOutOfRangeError(this);
    return formatF64Toml(this.toF64());
  }

  private exportInteger(): string | undefined {
    if (this.d !== 1n) return undefined;
    if (this.n < 0n ? this.n >= I64_MIN : this.n <= U64_MAX) return this.n.toString();
    return undefined;
  }
}

/** How Rust's `Display` writes the non-finite f64 values that appear in Nickel's error messages. */
function rustF64(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Number.POSITIVE_INFINITY) return 'inf';
  if (x === Number.NEGATIVE_INFINITY) return '-inf';
  return String(x);
}
