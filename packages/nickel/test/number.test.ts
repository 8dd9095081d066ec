import { describe, expect, it } from 'vitest';
import {
  DivisionByZeroError,
  formatF64Ryu,
  formatF64Toml,
  InvalidNumberLiteralError,
  NotRepresentableError,
  Num,
  NumberOutOfRangeError,
} from '../src/number.js';

const lit = (s: string): Num => Num.parseLiteral(s);
/** A possibly negative literal, as the parser would build it (`-` is the unary negation). */
const num = (s: string): Num => (s.startsWith('-') ? lit(s.slice(1)).neg() : lit(s));
const frac = (x: Num): string => `${x.n}/${x.d}`;

describe('Num: construction and exact arithmetic', () => {
  it('keeps fractions exact and reduced', () => {
    expect(lit('0.1').add(lit('0.2')).eq(lit('0.3'))).toBe(true);
    expect(frac(Num.of(1).div(Num.of(3)))).toBe('1/3');
    expect(frac(Num.fraction(-6, -4))).toBe('3/2');
    expect(frac(Num.fraction(6, -4))).toBe('-3/2');
    expect(frac(Num.fraction(0, 7))).toBe('0/1');
    // core/tests/integration/inputs/core/basics.ncl and numbers.ncl
    expect(
      Num.of(1)
        .div(Num.of(2))
        .add(Num.of(1).div(Num.of(4)))
        .sub(Num.of(1).div(Num.of(8)))
        .eq(lit('0.625')),
    ).toBe(true);
    expect(lit('1e+3').div(lit('2e-3')).eq(lit('0.5e6'))).toBe(true);
    expect(lit('1.5').mul(lit('2')).isInteger()).toBe(true);
    expect(frac(lit('2.5').mul(lit('0.4')))).toBe('1/1');
    expect(frac(lit('0.5').mul(Num.ZERO))).toBe('0/1');
  });

  it('parses Nickel literals exactly (lexer regexes of Nickel)', () => {
    expect(frac(lit('6.8'))).toBe('34/5');
    expect(frac(lit('.5'))).toBe('1/2');
    expect(frac(lit('1e+3'))).toBe('1000/1');
    expect(frac(lit('2e-3'))).toBe('1/500');
    expect(frac(lit('1.5E10'))).toBe('15000000000/1');
    expect(frac(lit('0xFF'))).toBe('255/1');
    expect(frac(lit('0xff'))).toBe('255/1');
    expect(frac(lit('0o17'))).toBe('15/1');
    expect(frac(lit('0b101'))).toBe('5/1');
    expect(lit('1e400').toNickelString()).toBe('1e400');
    expect(lit('123456789012345678901234567890').n).toBe(123456789012345678901234567890n);
    for (const bad of ['', '1.', 'e5', '0x', '0xG1', '0b2', '1e', '-1', '+1', '1_000', ' 1']) {
      expect(() => lit(bad), bad).toThrow(InvalidNumberLiteralError);
    }
  });

  it('implements % as the remainder of the truncated division (operation.rs BinaryOp::Modulo)', () => {
    // n1 - trunc(n1 / n2) * n2: the sign of the dividend, fractions allowed.
    expect(Num.of(7).mod(Num.of(2)).toNickelString()).toBe('1');
    expect(Num.of(-7).mod(Num.of(2)).toNickelString()).toBe('-1');
    expect(Num.of(7).mod(Num.of(-2)).toNickelString()).toBe('1');
    expect(Num.of(-7).mod(Num.of(-2)).toNickelString()).toBe('-1');
    expect(lit('10.25').mod(Num.of(3)).eq(lit('1.25'))).toBe(true); // inputs/core/basics.ncl
    expect(num('-13.37').mod(Num.ONE).eq(num('-0.37'))).toBe(true);
    expect(lit('7.5').mod(lit('2.5')).isZero()).toBe(true);
    expect(lit('7').mod(lit('2.5')).eq(Num.of(2))).toBe(true);
    expect(num('-7').mod(lit('2.5')).eq(Num.of(-2))).toBe(true);
  });

  it('throws typed errors on division by zero (EvalError::Other in Nickel)', () => {
    expect(() => Num.ONE.div(Num.ZERO)).toThrow(DivisionByZeroError);
    expect(() => Num.ONE.div(Num.ZERO)).toThrow('division by zero');
    expect(() => Num.ONE.mod(Num.ZERO)).toThrow('division by zero (%)');
    expect(() => Num.fraction(1, 0)).toThrow(DivisionByZeroError);
    try {
      Num.ONE.div(Num.ZERO);
    } catch (e) {
      expect((e as DivisionByZeroError).nickelKind).toBe('EvalError::Other');
    }
  });

  it('rounds like std.ncl floor/ceil/truncate/fract (doc examples of std.number)', () => {
    expect(lit('42.5').floor().toNickelString()).toBe('42');
    expect(num('-42.5').floor().toNickelString()).toBe('-43');
    expect(num('-3').floor().toNickelString()).toBe('-3');
    expect(lit('22.3').ceil().toNickelString()).toBe('23');
    expect(num('-12.7').ceil().toNickelString()).toBe('-12');
    expect(num('-4').ceil().toNickelString()).toBe('-4');
    expect(num('-13.37').truncate().toNickelString()).toBe('-13');
    expect(lit('42.5').truncate().toNickelString()).toBe('42');
    expect(lit('13.37').fract().toNickelString()).toBe('0.37');
    expect(num('-13.37').fract().toNickelString()).toBe('-0.37');
    expect(Num.of(42).fract().toNickelString()).toBe('0');
    expect(num('-5').abs().toNickelString()).toBe('5');
    expect(num('-1337').min(Num.of(42)).toNickelString()).toBe('-1337');
    expect(num('-1337').max(Num.of(42)).toNickelString()).toBe('42');
  });

  it('computes pow exactly for i64 exponents and through f64 otherwise (operation.rs BinaryOp::Pow)', () => {
    expect(Num.of(2).pow(Num.of(8)).toNickelString()).toBe('256');
    expect(frac(Num.of(2).pow(Num.of(-3)))).toBe('1/8');
    expect(frac(num('-2').pow(Num.of(-3)))).toBe('-1/8');
    expect(frac(lit('1.5').pow(Num.of(2)))).toBe('9/4');
    expect(Num.of(10).pow(Num.of(30)).n).toBe(10n ** 30n);
    expect(Num.ZERO.pow(Num.ZERO).toNickelString()).toBe('1');
    expect(() => Num.ZERO.pow(Num.MINUS_ONE)).toThrow(DivisionByZeroError);
    expect(Num.of(4).pow(lit('0.5')).toNickelString()).toBe('2');
    // std.number.sqrt 2 is pow 2 (1/2): f64 1.4142135623730951, printed with 16 digits.
    expect(
      Num.of(2)
        .pow(Num.of(1).div(Num.of(2)))
        .toNickelString(),
    ).toBe('1.414213562373095');
    expect(() => num('-8').pow(Num.of(1).div(Num.of(3)))).toThrow(NotRepresentableError);
    expect(() => Num.of(2).pow(Num.of(2).pow(Num.of(70)))).toThrow(NotRepresentableError);
    expect(
      Num.of(3)
        .pow(Num.of(1).div(Num.of(2)))
        .pow(Num.of(2))
        .toNickelString(),
    ).toBe('3');
  });

  it('compares exactly', () => {
    expect(lit('1.5').cmp(lit('1.25'))).toBe(1);
    expect(Num.of(1).div(Num.of(3)).lt(lit('0.3333333333333333334'))).toBe(true);
    expect(lit('0.5').eq(Num.of(1).div(Num.of(2)))).toBe(true);
    expect(num('-0.5').le(Num.ZERO)).toBe(true);
    expect(Num.of(3).ge(Num.of(3))).toBe(true);
    expect(Num.of(2).gt(Num.of(3))).toBe(false);
    expect([lit('2'), lit('0.5'), num('-1')].sort(Num.compare).map(String)).toEqual(['-1', '0.5', '2']);
    expect(lit('0.50').key).toBe(Num.fraction(1, 2).key);
  });
});

describe('Num.toNickelString (malachite ToSci defaults: 16 digits, nearest, no trailing zeros)', () => {
  it('prints integers and short decimals plainly', () => {
    // inputs/stdlib/string_conversions.ncl
    expect(num('-1').toNickelString()).toBe('-1');
    expect(Num.of(0).toNickelString()).toBe('0');
    expect(Num.of(9009).toNickelString()).toBe('9009');
    expect(lit('1.2').toNickelString()).toBe('1.2');
    // examples/imports/data_nickel_properties.ncl: kelvin - 273.15, (kelvin - 273.15) * 1.8000 + 32.00
    const c = (k: number) => Num.of(k).sub(lit('273.15'));
    const f = (k: number) => c(k).mul(lit('1.8000')).add(lit('32.00'));
    expect(`${c(1728)} ${f(1728)} ${c(3003)} ${f(3003)}`).toBe('1454.85 2650.73 2729.85 4945.73');
    expect(lit('1000000000000000').toNickelString()).toBe('1000000000000000');
    expect(lit('123.456').toNickelString()).toBe('123.456');
    expect(lit('0.00001').toNickelString()).toBe('0.00001');
  });

  it('rounds to 16 significant digits (malachite-q to_sci.rs doc examples)', () => {
    expect(Num.fraction(22, 7).toNickelString()).toBe('3.142857142857143');
    expect(Num.fraction(1, 3).toNickelString()).toBe('0.3333333333333333');
    expect(Num.fraction(2, 3).toNickelString()).toBe('0.6666666666666667');
    expect(Num.fraction(-1, 3).toNickelString()).toBe('-0.3333333333333333');
    expect(Num.fraction(123n, 45678909876n).toNickelString()).toBe('2.692708743135418e-9');
    expect(Num.fraction(1n, 1n << 30n).toNickelString()).toBe('9.313225746154785e-10');
    expect(lit('0.99999999999999999').toNickelString()).toBe('1');
    expect(lit('9.99999999999999999e-6').toNickelString()).toBe('0.00001');
    expect(lit('2.5000000000000005').toNickelString()).toBe('2.5');
    // Ties go to even: 1.0000000000000005 has 17 digits, the 16th is even.
    expect(lit('1.0000000000000005').toNickelString()).toBe('1');
    expect(lit('1.0000000000000015').toNickelString()).toBe('1.000000000000002');
  });

  it('switches to e notation for exponents <= -6 (neg_exp_threshold) and >= 16', () => {
    // malachite-base options/mod.rs: 0.1, 0.01, 0.001, 0.0001, 0.00001, 1e-6, 1e-7
    expect(['0.1', '0.01', '0.001', '0.0001', '0.00001', '0.000001', '0.0000001'].map((s) => `${lit(s)}`)).toEqual([
      '0.1',
      '0.01',
      '0.001',
      '0.0001',
      '0.00001',
      '1e-6',
      '1e-7',
    ]);
    expect(lit('1.5e-7').toNickelString()).toBe('1.5e-7');
    expect(num('-1.5e-7').toNickelString()).toBe('-1.5e-7');
    expect(lit('1e16').toNickelString()).toBe('1e16');
    expect(lit('1e20').toNickelString()).toBe('1e20');
    expect(lit('12345678901234567').toNickelString()).toBe('1.234567890123457e16');
    expect(lit('1.5e300').toNickelString()).toBe('1.5e300');
    // cli-snapshots serialization_number_out_of_range: "The number 1e400 is too large ..."
    expect(lit('1e400').toNickelString()).toBe('1e400');
  });
});

describe('Num.parseNumberString (std.string.to_number, malachite Rational::from_sci_string)', () => {
  it('accepts what from_sci_string accepts, exactly', () => {
    // inputs/stdlib/string_conversions.ncl
    expect(Num.parseNumberString('1').eq(Num.ONE)).toBe(true);
    expect(Num.parseNumberString('-1').eq(Num.MINUS_ONE)).toBe(true);
    expect(Num.parseNumberString('-1.1').eq(num('-1.1'))).toBe(true);
    // malachite-q from_sci_string.rs doc examples
    expect(frac(Num.parseNumberString('0.1'))).toBe('1/10');
    expect(frac(Num.parseNumberString('0.10'))).toBe('1/10');
    expect(frac(Num.parseNumberString('0.333'))).toBe('333/1000');
    expect(frac(Num.parseNumberString('1.2e5'))).toBe('120000/1');
    expect(frac(Num.parseNumberString('1.2e-5'))).toBe('3/250000');
    for (const [s, v] of [
      ['+1.2', '6/5'],
      ['5.', '5/1'],
      ['.5', '1/2'],
      ['+.5', '1/2'],
      ['-.5', '-1/2'],
      ['1E3', '1000/1'],
      ['1e+3', '1000/1'],
      ['1.e2', '100/1'],
      ['007', '7/1'],
      ['-0', '0/1'],
    ] as const) {
      expect(frac(Num.parseNumberString(s)), s).toBe(v);
    }
  });

  it('rejects everything else with the message of number/from_string', () => {
    for (const bad of ['', '.', '+', '-', 'e5', '1e', '1e5.5', '+-1', '-+1', '--1', ' 1', '1 ', '0x10', 'one', '1,5']) {
      expect(() => Num.parseNumberString(bad), bad).toThrow(InvalidNumberLiteralError);
    }
    expect(() => Num.parseNumberString('abc')).toThrow('number/from_string: invalid number literal `abc`');
    expect(() => Num.parseNumberString('1e99999999999999999999')).toThrow(InvalidNumberLiteralError);
  });

  it('exposes the std.string.NumberLiteral contract test (std.ncl regex, lowercase e only)', () => {
    // inputs/stdlib/string_contracts.ncl and the std.ncl doc examples
    for (const ok of ['+1.2', '-1.2', '9001', '5', '.5', '5.', '1e5', '1.5e-3'])
      expect(Num.isNumberLiteral(ok), ok).toBe(true);
    for (const bad of ['', '1E5', 'abc', '1e', '.', '+']) expect(Num.isNumberLiteral(bad), bad).toBe(false);
  });
});

describe('Num.fromF64 (malachite try_from_float_simplest: simplest rational rounding to the f64)', () => {
  it('gives the simplest rational (malachite-q from_primitive_float tests)', () => {
    expect(frac(Num.fromF64(0.1))).toBe('1/10');
    expect(frac(Num.fromF64(1.5))).toBe('3/2');
    expect(frac(Num.fromF64(-1.5))).toBe('-3/2');
    expect(frac(Num.fromF64(0.3333333333333333))).toBe('1/3');
    expect(frac(Num.fromF64(0.3333333333333337))).toBe('279293000147008/837879000441023');
    expect(frac(Num.fromF64(Math.PI))).toBe('245850922/78256779');
    expect(frac(Num.fromF64(Math.E))).toBe('268876667/98914198');
    expect(frac(Num.fromF64(Math.SQRT2))).toBe('131836323/93222358');
    expect(frac(Num.fromF64(0))).toBe('0/1');
    expect(frac(Num.fromF64(1e20))).toBe('100000000000000000000/1');
    expect(Num.fromF64(Number.MAX_VALUE).eq(Num.F64_MAX)).toBe(true);
  });

  it('round-trips through toF64 and refuses NaN and infinities', () => {
    for (const x of [0.1, 1454.85, 1e-300, 5e-324, -2.2250738585072014e-308, 123456.789, 1e300, -0.7]) {
      expect(Num.fromF64(x).toF64()).toBe(x);
    }
    expect(() => Num.fromF64(Number.NaN)).toThrow(NotRepresentableError);
    expect(() => Num.fromF64(Number.POSITIVE_INFINITY)).toThrow(NotRepresentableError);
  });

  it('reads JSON numbers like serde_json (exact i64/u64 integers, other numbers through f64)', () => {
    expect(Num.fromJsonNumber('18446744073709551615').n).toBe(18446744073709551615n);
    expect(Num.fromJsonNumber('-9223372036854775808').n).toBe(-9223372036854775808n);
    expect(Num.fromJsonNumber('18446744073709551617').n).toBe(18446744073709551616n);
    expect(frac(Num.fromJsonNumber('0.1'))).toBe('1/10');
    expect(frac(Num.fromJsonNumber('1e2'))).toBe('100/1');
  });
});

describe('Num.toF64 (nearest f64, ties to even)', () => {
  it('rounds correctly', () => {
    expect(Num.fraction(1, 3).toF64()).toBe(1 / 3);
    expect(lit('0.1').toF64()).toBe(0.1);
    expect(Num.of(2n ** 53n + 1n).toF64()).toBe(2 ** 53); // tie -> even
    expect(Num.of(2n ** 53n + 3n).toF64()).toBe(2 ** 53 + 4); // tie -> even
    expect(lit('1e400').toF64()).toBe(Number.POSITIVE_INFINITY);
    expect(lit('1e-400').toF64()).toBe(0);
    expect(lit('2.4703282292062328e-324').toF64()).toBe(5e-324); // just above half the smallest subnormal
    expect(lit('123456789012345678901234567890.123').toF64()).toBe(1.2345678901234568e29);
    expect(num('-1.7976931348623157e308').toF64()).toBe(-Number.MAX_VALUE);
  });
});

describe('Num.toExportJson (serialize_num: i64/u64 integers exact, else ryu f64)', () => {
  it('writes integers that fit i64/u64 exactly (cli-snapshots export nested_record, not_exported_undefined)', () => {
    expect(Num.of(1).toExportJson()).toBe('1');
    expect(Num.of(42).toExportJson()).toBe('42');
    expect(Num.of(2).toExportJson()).toBe('2');
    expect(Num.of(-3).toExportJson()).toBe('-3');
    expect(lit('18446744073709551615').toExportJson()).toBe('18446744073709551615');
    expect(num('-9223372036854775808').toExportJson()).toBe('-9223372036854775808');
    expect(lit('1e19').toExportJson()).toBe('10000000000000000000');
  });

  it('writes other numbers as the nearest f64 in ryu form (ryu src/pretty/mod.rs format64)', () => {
    expect(lit('0.1').toExportJson()).toBe('0.1');
    expect(lit('1454.85').toExportJson()).toBe('1454.85');
    expect(Num.fraction(1, 3).toExportJson()).toBe('0.3333333333333333');
    expect(lit('1e21').toExportJson()).toBe('1e21');
    expect(lit('1e20').toExportJson()).toBe('1e20');
    expect(lit('18446744073709551616').toExportJson()).toBe('1.8446744073709552e19');
    expect(num('-9223372036854775809').toExportJson()).toBe('-9.223372036854776e18');
    expect(lit('1.5e-7').toExportJson()).toBe('1.5e-7');
    expect(lit('0.00001').toExportJson()).toBe('0.00001');
    expect(lit('0.000001').toExportJson()).toBe('1e-6');
    expect(lit('1000000000000000.5').toExportJson()).toBe('1000000000000000.5');
    expect(lit('12345678901234567.5').toExportJson()).toBe('1.2345678901234568e16');
    // The bound quoted by the cli-snapshot serialization_number_out_of_range.
    expect(Num.F64_MAX.toExportJson()).toBe('1.7976931348623157e308');
    expect(Num.F64_MAX.neg().toExportJson()).toBe('-1.7976931348623157e308');
  });

  it('throws NumberOutOfRangeError beyond f64::MAX (inputs/serialization/number_out_of_range.ncl)', () => {
    expect(() => lit('1e400').toExportJson()).toThrow(NumberOutOfRangeError);
    expect(() => num('-1e400').toExportJson()).toThrow(NumberOutOfRangeError);
    expect(() => Num.F64_MAX.add(Num.ONE).toExportJson()).toThrow(NumberOutOfRangeError);
    try {
      lit('1e400').toExportJson();
    } catch (e) {
      const err = e as NumberOutOfRangeError;
      expect(err.nickelKind).toBe('ExportError::NumberOutOfRange');
      // cli-snapshots: snapshot__export_stderr_serialization_number_out_of_range.ncl.snap
      expect(err.message).toBe('The number 1e400 is too large (in absolute value) to be serialized.');
      expect(err.notes[0]).toBe(
        'Only numbers in the range -1.7976931348623157e308 to 1.7976931348623157e308 can be portably serialized',
      );
    }
    expect(lit('1e400').inF64Range()).toBe(false);
    expect(Num.F64_MAX.inF64Range()).toBe(true);
  });

  it('formats f64 values like ryu and like the toml crate', () => {
    expect(formatF64Ryu(1.234)).toBe('1.234');
    expect(formatF64Ryu(100)).toBe('100.0');
    expect(formatF64Ryu(1e16)).toBe('1e16');
    expect(formatF64Ryu(0)).toBe('0.0');
    expect(formatF64Ryu(-0)).toBe('-0.0');
    expect(formatF64Ryu(5e-324)).toBe('5e-324');
    expect(formatF64Ryu(0.000123)).toBe('0.000123');
    expect(formatF64Toml(1e20)).toBe('100000000000000000000.0');
    expect(formatF64Toml(1.5e-7)).toBe('0.00000015');
    expect(formatF64Toml(2.5)).toBe('2.5');
    expect(lit('0.5').toExportToml()).toBe('0.5');
    expect(Num.of(7).toExportToml()).toBe('7');
  });
});
