import { bool, num } from '../eval.js';
import { Num } from '../number.js';
import { typeName, type Value } from '../values.js';
import { def, predicate, type StdFn, type Table, tag } from './kit.js';

const isInt = (v: Value) => v.k === 'num' && v.v.isInteger();
const compareNums = (a: Num, b: Num): Value => tag(a.cmp(b) < 0 ? 'Lesser' : a.cmp(b) > 0 ? 'Greater' : 'Equal');
/** A float function of one number (results are IEEE doubles, as in Nickel). */
const mathFn = (f: (x: number) => number): StdFn => def(['num'], ([x]) => num(Num.fromF64(f(x.toF64()))));

/** `std.number`. */
export function numberStd(): Table {
  return {
    is_integer: def(['num'], ([x]) => bool(x.isInteger())),
    compare: def(['num', 'num'], ([a, b]) => compareNums(a, b)),
    min: def(['num', 'num'], ([x, y]) => num(x.cmp(y) <= 0 ? x : y)),
    max: def(['num', 'num'], ([x, y]) => num(x.cmp(y) >= 0 ? x : y)),
    floor: def(['num'], ([x]) => num(x.floor())),
    ceil: def(['num'], ([x]) => num(x.ceil())),
    abs: def(['num'], ([x]) => num(x.abs())),
    fract: def(['num'], ([x]) => num(x.fract())),
    truncate: def(['num'], ([x]) => num(x.truncate())),
    pow: def(['num', 'num'], ([x, y]) => num(x.pow(y))),
    log: def(['num', 'num'], ([x, base]) => num(Num.fromF64(Math.log(x.toF64()) / Math.log(base.toF64())))),
    cos: mathFn(Math.cos),
    sin: mathFn(Math.sin),
    tan: mathFn(Math.tan),
    arccos: mathFn(Math.acos),
    arcsin: mathFn(Math.asin),
    arctan: mathFn(Math.atan),
    sqrt: mathFn(Math.sqrt),
    arctan2: def(['num', 'num'], ([y, x]) => num(Num.fromF64(Math.atan2(y.toF64(), x.toF64())))),
    pi: num(Num.fromF64(Math.PI)),
    e: num(Num.fromF64(Math.E)),
    Integer: predicate('std.number.Integer', isInt, (v) =>
      v.k === 'num' ? 'expected an integer' : `expected a Number, got ${typeName(v)}`,
    ),
    Nat: predicate(
      'std.number.Nat',
      (v) => isInt(v) && v.k === 'num' && v.v.cmp(Num.ZERO) >= 0,
      () => 'expected a natural number (0, 1, 2, ...)',
    ),
    PosNat: predicate(
      'std.number.PosNat',
      (v) => isInt(v) && v.k === 'num' && v.v.cmp(Num.ZERO) > 0,
      () => 'expected a positive integer (1, 2, 3, ...)',
    ),
    NonZero: predicate(
      'std.number.NonZero',
      (v) => v.k === 'num' && !v.v.isZero(),
      () => 'expected a non-zero number',
    ),
  };
}
