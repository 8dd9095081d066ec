import type { Pos } from './ast.js';
import { bool, type Evaluator, frozen, num, str } from './eval.js';
import { Num } from './number.js';
import { deserialize, serialize } from './serialize.js';
import { blame, byteOrder, evalError, type RecordValue, Thunk, typeName, typeTag, type Value } from './values.js';

type Primop = (args: Thunk[], pos: Pos) => Value;

/**
 * The 16 `%name%` primitives Nickel's own tests call (conformance corpus README); they are not
 * part of the user language. Wrong argument types are `NAryPrimopTypeError`, as in Nickel.
 */
export function testPrimops(ev: Evaluator): Record<string, Primop> {
  const typeErr = (name: string, expected: string, v: Value, pos: Pos): never =>
    evalError('EvalError::NAryPrimopTypeError', `%${name}% expected ${expected}, got ${typeName(v)}`, pos);
  const arity = (name: string, n: number, args: Thunk[], pos: Pos) => {
    if (args.length !== n) evalError('EvalError::Other', `%${name}% takes ${n} arguments, got ${args.length}`, pos);
  };
  const rec = (name: string, t: Thunk, pos: Pos): RecordValue => {
    const v = t.force();
    if (v.k !== 'record') typeErr(name, 'a Record', v, pos);
    return v as RecordValue;
  };
  const string = (name: string, t: Thunk, pos: Pos): string => {
    const v = t.force();
    if (v.k !== 'str') typeErr(name, 'a String', v, pos);
    return (v as { v: string }).v;
  };
  const array = (name: string, t: Thunk, pos: Pos): Thunk[] => {
    const v = t.force();
    if (v.k !== 'array') typeErr(name, 'an Array', v, pos);
    return (v as { items: Thunk[] }).items;
  };
  const index = (name: string, t: Thunk, pos: Pos): number => {
    const v = t.force();
    if (v.k !== 'num') typeErr(name, 'a Number', v, pos);
    if (!(v as { v: Num }).v.isInteger())
      evalError(
        'EvalError::Other',
        `%${name}% expected an integer index, got ${(v as { v: Num }).v.toNickelString()}`,
        pos,
      );
    return Number((v as { v: Num }).v.toF64());
  };
  const fields = (r: RecordValue) => [...r.template.keys()].sort(byteOrder);
  return {
    blame: (a, pos) => {
      arity('blame', 1, a, pos);
      const l = (a[0] as Thunk).force();
      if (l.k !== 'label') return typeErr('blame', 'a Label', l, pos);
      return blame(l.label);
    },
    seq: (a, pos) => {
      arity('seq', 2, a, pos);
      (a[0] as Thunk).force();
      return (a[1] as Thunk).force();
    },
    deep_seq: (a, pos) => {
      arity('deep_seq', 2, a, pos);
      ev.deepForce((a[0] as Thunk).force());
      return (a[1] as Thunk).force();
    },
    force: (a, pos) => {
      arity('force', 1, a, pos);
      const v = (a[0] as Thunk).force();
      ev.deepForce(v);
      return v;
    },
    typeof: (a, pos) => {
      arity('typeof', 1, a, pos);
      const v = (a[0] as Thunk).force();
      return { k: 'enum', tag: typeTag(v) };
    },
    'record/has_field': (a, pos) => {
      arity('record/has_field', 2, a, pos);
      return bool(
        ev.hasField(rec('record/has_field', a[1] as Thunk, pos), string('record/has_field', a[0] as Thunk, pos)),
      );
    },
    'record/fields': (a, pos) => {
      arity('record/fields', 1, a, pos);
      return { k: 'array', items: fields(rec('record/fields', a[0] as Thunk, pos)).map((n) => Thunk.of(str(n))) };
    },
    'record/insert': (a, pos) => {
      arity('record/insert', 3, a, pos);
      const name = string('record/insert', a[0] as Thunk, pos);
      const r = rec('record/insert', a[1] as Thunk, pos);
      if (ev.hasField(r, name))
        return evalError('EvalError::Other', `%record/insert%: the record already has a field \`${name}\``, pos);
      const m = new Map<string, Thunk>(ev.fieldNames(r).map((n) => [n, ev.fieldThunk(r, n)]));
      m.set(name, a[2] as Thunk);
      return frozen(m);
    },
    'record/remove': (a, pos) => {
      arity('record/remove', 2, a, pos);
      const name = string('record/remove', a[0] as Thunk, pos);
      const r = rec('record/remove', a[1] as Thunk, pos);
      if (!ev.hasField(r, name))
        return evalError('EvalError::FieldMissing', `missing field \`${name}\``, pos, { field: name });
      return ev.restrict(
        r,
        ev.fieldNames(r).filter((n) => n !== name),
      );
    },
    'record/freeze': (a, pos) => {
      arity('record/freeze', 1, a, pos);
      const r = rec('record/freeze', a[0] as Thunk, pos);
      return ev.restrict(r, ev.fieldNames(r));
    },
    'array/at': (a, pos) => {
      arity('array/at', 2, a, pos);
      const items = array('array/at', a[0] as Thunk, pos);
      const i = index('array/at', a[1] as Thunk, pos);
      if (i < 0 || i >= items.length)
        return evalError('EvalError::Other', `index out of bounds: ${i} (the array has ${items.length} elements)`, pos);
      return (items[i] as Thunk).force();
    },
    'array/length': (a, pos) => {
      arity('array/length', 1, a, pos);
      return num(Num.of(array('array/length', a[0] as Thunk, pos).length));
    },
    'array/map': (a, pos) => {
      arity('array/map', 2, a, pos);
      const items = array('array/map', a[0] as Thunk, pos);
      const f = a[1] as Thunk;
      return { k: 'array', items: items.map((t) => new Thunk(() => ev.apply(f.force(), t, pos))) };
    },
    'array/slice': (a, pos) => {
      arity('array/slice', 3, a, pos);
      const start = index('array/slice', a[0] as Thunk, pos);
      const end = index('array/slice', a[1] as Thunk, pos);
      const items = array('array/slice', a[2] as Thunk, pos);
      if (start < 0 || end > items.length || start > end) {
        return evalError(
          'EvalError::Other',
          `invalid slice [${start}, ${end}) of an array of ${items.length} elements`,
          pos,
        );
      }
      return { k: 'array', items: items.slice(start, end) };
    },
    serialize: (a, pos) => {
      arity('serialize', 2, a, pos);
      const f = (a[0] as Thunk).force();
      if (f.k !== 'enum') return typeErr('serialize', 'a format tag', f, pos);
      return str(serialize(ev, f.tag, (a[1] as Thunk).force()));
    },
    deserialize: (a, pos) => {
      arity('deserialize', 2, a, pos);
      const f = (a[0] as Thunk).force();
      if (f.k !== 'enum') return typeErr('deserialize', 'a format tag', f, pos);
      return deserialize(f.tag, string('deserialize', a[1] as Thunk, pos));
    },
  };
}
