import type { Pos } from './ast.js';
import { emptyMeta } from './ast.js';
import { NickelError } from './errors.js';
import { bool, DYN, type Evaluator, fn, makeRecord, mergeRecords, NULL, num, str } from './eval.js';
import { Num } from './number.js';
import { deserialize, serialize } from './serialize.js';
import {
  blame,
  type ContractValue,
  childLabel,
  evalError,
  type FieldTemplate,
  type Label,
  type RecordValue,
  Thunk,
  typeName,
  type Value,
} from './values.js';

type Impl = (args: Thunk[]) => Value;

const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
export const graphemes = (s: string): string[] => Array.from(segmenter.segment(s), (x) => x.segment);

/** UTF-16 offsets where grapheme clusters start (and the end): matches may not cut a cluster. */
const ALL_BOUNDARIES = { has: () => true } as unknown as Set<number>;

function clusterBounds(s: string): Set<number> {
  // Printable ASCII without CR: every position is a boundary (the common case, kept cheap).
  if (/^[\x20-\x7e\t\n]*$/.test(s)) return ALL_BOUNDARIES;
  const b = new Set<number>([s.length]);
  for (const seg of segmenter.segment(s)) b.add(seg.index);
  return b;
}

const globalVariants = new WeakMap<RegExp, RegExp>();
const globalOf = (re: RegExp): RegExp => {
  let g = globalVariants.get(re);
  if (!g) {
    g = re.flags.includes('g') ? re : new RegExp(re.source, `${re.flags}g`);
    globalVariants.set(re, g);
  }
  return g;
};

/** Occurrences of `sub` that start and end on cluster boundaries. */
function substringMatches(s: string, sub: string): number[] {
  if (sub === '') return [...Array.from(segmenter.segment(s), (x) => x.index), s.length];
  const b = clusterBounds(s);
  const out: number[] = [];
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
    if (b.has(i) && b.has(i + sub.length)) {
      out.push(i);
      i += sub.length - 1;
    }
  }
  return out;
}

/** Regex matches (global) that start and end on cluster boundaries. */
function regexMatches(s: string, re: RegExp, first = false): RegExpExecArray[] {
  const b = clusterBounds(s);
  const g = globalOf(re);
  const out: RegExpExecArray[] = [];
  let from = 0;
  while (from <= s.length) {
    g.lastIndex = from;
    const m = g.exec(s);
    if (!m) break;
    if (b.has(m.index) && b.has(m.index + m[0].length)) {
      out.push(m);
      if (first) break;
      from = m[0].length === 0 ? m.index + 1 : m.index + m[0].length;
    } else from = m.index + 1;
  }
  return out;
}

function replaceAt(s: string, matches: { index: number; length: number }[], rep: string): string {
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += s.slice(last, m.index) + rep;
    last = m.index + m.length;
  }
  return out + s.slice(last);
}

/** A frozen record from a plain map of thunks (std.record.* results, std modules). */
export function frozen(fields: Map<string, Thunk> | Record<string, Thunk>, path: string[] = []): RecordValue {
  const entries = fields instanceof Map ? [...fields] : Object.entries(fields);
  const template = new Map<string, FieldTemplate>();
  for (const [n, t] of entries) template.set(n, { pieces: [{ meta: emptyMeta(), build: () => t }] });
  return makeRecord(template, true, path);
}

const v2t = (v: Value) => Thunk.of(v);
const tag = (t: string, arg?: Value): Value => (arg ? { k: 'enum', tag: t, arg: v2t(arg) } : { k: 'enum', tag: t });
const arr = (items: Value[]): Value => ({ k: 'array', items: items.map(v2t) });

/** The `std` record. Typed functions blame their caller for a wrong argument, as Nickel's do. */
export function buildStd(ev: Evaluator): RecordValue {
  const define = (name: string, arity: number, impl: Impl): Value => {
    const curry = (got: Thunk[]): Value =>
      fn(name, (a) => {
        const args = [...got, a];
        return args.length === arity ? impl(args) : curry(args);
      });
    return curry([]);
  };

  /** Blames the caller of `name` for argument `i`, which should have been `expected`. */
  const callerBlame = (name: string, expected: string, got: Value, pos?: Pos): never =>
    blame(
      {
        path: [],
        notes: [],
        blamed: `the caller of \`${name.split('.').at(-1)}\``,
        contractName: expected,
        message: `expected ${expected}, got ${typeName(got)}`,
      },
      pos,
    );

  const want = {
    num(name: string, t: Thunk): Num {
      const v = t.force();
      if (v.k !== 'num') callerBlame(name, 'Number', v, t.pos);
      return (v as { v: Num }).v;
    },
    int(name: string, t: Thunk): number {
      const n = want.num(name, t);
      if (!n.isInteger()) callerBlame(name, 'std.number.Integer', { k: 'num', v: n }, t.pos);
      return Number(n.toF64());
    },
    str(name: string, t: Thunk): string {
      const v = t.force();
      if (v.k !== 'str') callerBlame(name, 'String', v, t.pos);
      return (v as { v: string }).v;
    },
    bool(name: string, t: Thunk): boolean {
      const v = t.force();
      if (v.k !== 'bool') callerBlame(name, 'Bool', v, t.pos);
      return (v as { v: boolean }).v;
    },
    array(name: string, t: Thunk): Thunk[] {
      const v = t.force();
      if (v.k !== 'array') callerBlame(name, 'Array', v, t.pos);
      return (v as { items: Thunk[] }).items;
    },
    nonEmpty(name: string, t: Thunk): Thunk[] {
      const items = want.array(name, t);
      if (items.length === 0) {
        blame(
          {
            path: [],
            notes: [],
            blamed: `the caller of \`${name.split('.').at(-1)}\``,
            contractName: 'std.array.NonEmpty',
            message: 'empty array',
          },
          t.pos,
        );
      }
      return items;
    },
    record(name: string, t: Thunk): RecordValue {
      const v = t.force();
      if (v.k !== 'record') callerBlame(name, 'Record', v, t.pos);
      return v as RecordValue;
    },
    fn(name: string, t: Thunk): Value {
      const v = t.force();
      if (v.k !== 'fn') callerBlame(name, 'a function', v, t.pos);
      return v;
    },
  };
  const call = (f: Value, ...args: (Value | Thunk)[]): Value =>
    ev.applyN(
      f,
      args.map((a) => (a instanceof Thunk ? a : v2t(a))),
    );
  const callBool = (name: string, f: Value, ...args: Thunk[]): boolean => {
    const r = call(f, ...args);
    if (r.k !== 'bool') return callerBlame(name, 'a function returning Bool', r);
    return r.v;
  };
  const int = (n: number): Value => num(Num.of(n));

  // ------------------------------------------------------------------ contracts

  const contract = (name: string, apply: ContractValue['apply']): ContractValue => ({ k: 'contract', name, apply });
  const predicate = (name: string, test: (v: Value) => boolean, message?: (v: Value) => string): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const v = value.force();
          if (!test(v))
            blame(
              childLabel(
                label,
                message
                  ? { message: message(v), contractName: label.contractName ?? name }
                  : { contractName: label.contractName ?? name },
              ),
              value,
            );
          return v;
        }, value.pos),
    );
  const labelOf = (t: Thunk, fname: string): Label => {
    const v = t.force();
    if (v.k !== 'label') return callerBlame(fname, 'a contract label', v, t.pos);
    return v.label;
  };
  /** Runs the immediate part of a contract: 'Ok value or 'Error { message, notes }. */
  const check = (c: Value, label: Label, value: Thunk): Value => {
    // A check that catches blame must see it: no error recovery inside.
    const recover = ev.recover;
    ev.recover = undefined;
    try {
      const out = ev.applyContractValue(c, label, value);
      const forced = out.force();
      return tag('Ok', forced);
    } catch (e) {
      if (e instanceof NickelError && e.kind === 'EvalError::BlameError') {
        const fields: Record<string, Thunk> = {};
        if (e.message) fields.message = v2t(str(blameMessage(e)));
        if (e.notes.length) fields.notes = v2t(arr(e.notes.map(str)));
        return tag('Error', frozen(fields));
      }
      throw e;
    } finally {
      ev.recover = recover;
    }
  };
  const errorToLabel = (label: Label, err: Value | undefined): Label => {
    if (err?.k !== 'record') return label;
    const changes: Partial<Label> = {};
    if (ev.hasField(err, 'message')) {
      const m = ev.fieldThunk(err, 'message').force();
      if (m.k === 'str') changes.message = m.v;
    }
    if (ev.hasField(err, 'notes')) {
      const n = ev.fieldThunk(err, 'notes').force();
      if (n.k === 'array')
        changes.notes = [...label.notes, ...n.items.map((t) => ((x) => (x.k === 'str' ? x.v : ''))(t.force()))];
    }
    return childLabel(label, changes);
  };
  const fromValidator = (f: Value, name = 'validator'): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const r = call(f, value);
          if (r.k === 'enum' && r.tag === 'Ok' && !r.arg) return value.force();
          if (r.k === 'enum' && r.tag === 'Error') return blame(errorToLabel(label, r.arg?.force()), value);
          return blame(childLabel(label, { message: "a validator must return 'Ok or 'Error { .. }" }), value);
        }, value.pos),
    );
  const custom = (f: Value, name = 'custom contract'): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const r = call(f, { k: 'label', label }, value);
          if (r.k === 'enum' && r.tag === 'Ok' && r.arg) return r.arg.force();
          if (r.k === 'enum' && r.tag === 'Error') return blame(errorToLabel(label, r.arg?.force()), value);
          return blame(
            childLabel(label, { message: "a custom contract must return 'Ok value or 'Error { .. }" }),
            value.pos,
          );
        }, value.pos),
    );
  const fromPredicate = (f: Value, name = 'predicate'): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const r = call(f, value);
          if (r.k !== 'bool') return blame(childLabel(label, { message: 'a predicate must return a Bool' }), value);
          if (!r.v) return blame(label, value);
          return value.force();
        }, value.pos),
    );
  const contractOf = (t: Thunk): Value => t.force();

  const isInt = (v: Value) => v.k === 'num' && v.v.isInteger();
  const Integer = predicate('std.number.Integer', isInt, (v) =>
    v.k === 'num' ? 'expected an integer' : `expected a Number, got ${typeName(v)}`,
  );
  const Nat = predicate(
    'std.number.Nat',
    (v) => isInt(v) && v.k === 'num' && v.v.cmp(Num.ZERO) >= 0,
    () => 'expected a natural number (0, 1, 2, ...)',
  );
  const PosNat = predicate(
    'std.number.PosNat',
    (v) => isInt(v) && v.k === 'num' && v.v.cmp(Num.ZERO) > 0,
    () => 'expected a positive integer (1, 2, 3, ...)',
  );
  const NonZero = predicate(
    'std.number.NonZero',
    (v) => v.k === 'num' && !v.v.isZero(),
    () => 'expected a non-zero number',
  );

  // ------------------------------------------------------------------ regex (Rust dialect → JS)

  const regexCache = new Map<string, RegExp>();
  const regex = (name: string, src: string, flags = 'u'): RegExp => {
    const key = `${flags}:${src}`;
    let re = regexCache.get(key);
    if (!re) {
      const js = src
        .replace(/\(\?P</g, '(?<')
        .replace(/\\d/g, '\\p{Nd}')
        .replace(/\\w/g, '[\\p{L}\\p{N}_\\p{M}\\p{Pc}]')
        .replace(/\\([^A-Za-z0-9\s^$\\.*+?()[\]{}|/-])/g, '$1')
        .replace(/\\A/g, '^')
        .replace(/\\z/g, '$');
      try {
        re = new RegExp(js, flags);
      } catch (e) {
        return evalError('EvalError::Other', `${name}: invalid regular expression: ${(e as Error).message}`);
      }
      regexCache.set(key, re);
    }
    return re;
  };
  /** Grapheme index of a UTF-16 offset. */
  const graphemeIndex = (s: string, offset: number) => graphemes(s.slice(0, offset)).length;
  const matchRecord = (s: string, m: RegExpExecArray | null): Value => {
    if (!m) return frozen({ matched: v2t(str('')), index: v2t(int(-1)), groups: v2t(arr([])) });
    return frozen({
      matched: v2t(str(m[0])),
      index: v2t(int(graphemeIndex(s, m.index))),
      groups: v2t(arr(m.slice(1).map((g) => str(g ?? '')))),
    });
  };

  // ------------------------------------------------------------------ records

  const recordFields = (r: RecordValue) => ev.fieldNames(r).sort(byteOrder);
  const updated = (r: RecordValue, name: string, value: Thunk | undefined): RecordValue => {
    const m = new Map<string, Thunk>();
    for (const n of ev.fieldNames(r)) if (n !== name) m.set(n, ev.fieldThunk(r, n));
    if (value) m.set(name, value);
    return frozen(m, r.path);
  };

  const stringable = (fname: string, t: Thunk): string => {
    const v = t.force();
    switch (v.k) {
      case 'str':
        return v.v;
      case 'num':
        return v.v.toNickelString();
      case 'bool':
        return String(v.v);
      case 'null':
        return 'null';
      case 'enum':
        if (!v.arg) return v.tag;
    }
    return callerBlame(fname, 'std.string.Stringable', v, t.pos);
  };

  const compareNums = (a: Num, b: Num): Value => tag(a.cmp(b) < 0 ? 'Lesser' : a.cmp(b) > 0 ? 'Greater' : 'Equal');

  const mathFn = (name: string, f: (x: number) => number) =>
    define(`std.number.${name}`, 1, ([x]) => num(Num.fromF64(f(want.num(`std.number.${name}`, x as Thunk).toF64()))));

  const modules: Record<string, Record<string, Value>> = {
    array: {
      first: define('std.array.first', 1, ([a]) => (want.nonEmpty('std.array.first', a as Thunk)[0] as Thunk).force()),
      last: define('std.array.last', 1, ([a]) => (want.nonEmpty('std.array.last', a as Thunk).at(-1) as Thunk).force()),
      drop_first: define('std.array.drop_first', 1, ([a]) => ({
        k: 'array',
        items: want.nonEmpty('std.array.drop_first', a as Thunk).slice(1),
      })),
      drop_last: define('std.array.drop_last', 1, ([a]) => ({
        k: 'array',
        items: want.nonEmpty('std.array.drop_last', a as Thunk).slice(0, -1),
      })),
      length: define('std.array.length', 1, ([a]) => int(want.array('std.array.length', a as Thunk).length)),
      map: define('std.array.map', 2, ([f, a]) => {
        const items = want.array('std.array.map', a as Thunk);
        return { k: 'array', items: items.map((t) => new Thunk(() => call((f as Thunk).force(), t))) };
      }),
      at: define('std.array.at', 2, ([i, a]) => {
        const items = want.array('std.array.at', a as Thunk);
        const n = want.int('std.array.at', i as Thunk);
        if (n < 0 || n >= items.length)
          return evalError(
            'EvalError::Other',
            `index out of bounds: ${n} (the array has ${items.length} elements)`,
            i?.pos,
          );
        return (items[n] as Thunk).force();
      }),
      at_or: define('std.array.at_or', 3, ([i, d, a]) => {
        const items = want.array('std.array.at_or', a as Thunk);
        const n = want.int('std.array.at_or', i as Thunk);
        return n >= 0 && n < items.length ? (items[n] as Thunk).force() : (d as Thunk).force();
      }),
      concat: define('std.array.concat', 2, ([a, b]) => ({
        k: 'array',
        items: [...want.array('std.array.concat', a as Thunk), ...want.array('std.array.concat', b as Thunk)],
      })),
      fold_left: define('std.array.fold_left', 3, ([f, init, a]) => {
        let acc = init as Thunk;
        const fv = (f as Thunk).force();
        for (const t of want.array('std.array.fold_left', a as Thunk)) acc = v2t(call(fv, acc, t));
        return acc.force();
      }),
      fold_right: define('std.array.fold_right', 3, ([f, init, a]) => {
        let acc = init as Thunk;
        const fv = (f as Thunk).force();
        const items = want.array('std.array.fold_right', a as Thunk);
        for (let i = items.length - 1; i >= 0; i--) acc = v2t(call(fv, items[i] as Thunk, acc));
        return acc.force();
      }),
      prepend: define('std.array.prepend', 2, ([x, a]) => ({
        k: 'array',
        items: [x as Thunk, ...want.array('std.array.prepend', a as Thunk)],
      })),
      append: define('std.array.append', 2, ([x, a]) => ({
        k: 'array',
        items: [...want.array('std.array.append', a as Thunk), x as Thunk],
      })),
      reverse: define('std.array.reverse', 1, ([a]) => ({
        k: 'array',
        items: [...want.array('std.array.reverse', a as Thunk)].reverse(),
      })),
      filter: define('std.array.filter', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        return {
          k: 'array',
          items: want.array('std.array.filter', a as Thunk).filter((t) => callBool('std.array.filter', fv, t)),
        };
      }),
      flatten: define('std.array.flatten', 1, ([a]) => ({
        k: 'array',
        items: want.array('std.array.flatten', a as Thunk).flatMap((t) => want.array('std.array.flatten', t)),
      })),
      all: define('std.array.all', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        return bool(want.array('std.array.all', a as Thunk).every((t) => callBool('std.array.all', fv, t)));
      }),
      any: define('std.array.any', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        return bool(want.array('std.array.any', a as Thunk).some((t) => callBool('std.array.any', fv, t)));
      }),
      elem: define('std.array.elem', 2, ([x, a]) => {
        const v = (x as Thunk).force();
        return bool(want.array('std.array.elem', a as Thunk).some((t) => ev.equal(v, t.force())));
      }),
      partition: define('std.array.partition', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        const right: Thunk[] = [];
        const wrong: Thunk[] = [];
        for (const t of want.array('std.array.partition', a as Thunk))
          (callBool('std.array.partition', fv, t) ? right : wrong).push(t);
        return frozen({ right: v2t({ k: 'array', items: right }), wrong: v2t({ k: 'array', items: wrong }) });
      }),
      group: define('std.array.group', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        const groups = new Map<string, Thunk[]>();
        for (const t of want.array('std.array.group', a as Thunk)) {
          const k = call(fv, t);
          if (k.k !== 'str') return callerBlame('std.array.group', 'a function returning String', k);
          const g = groups.get(k.v) ?? [];
          g.push(t);
          groups.set(k.v, g);
        }
        const m = new Map<string, Thunk>();
        for (const [k, items] of groups) m.set(k, v2t({ k: 'array', items }));
        return frozen(m);
      }),
      generate: define('std.array.generate', 2, ([f, n]) => {
        const count = want.int('std.array.generate', n as Thunk);
        if (count < 0) return callerBlame('std.array.generate', 'std.number.Nat', int(count));
        const fv = (f as Thunk).force();
        return { k: 'array', items: Array.from({ length: count }, (_, i) => new Thunk(() => call(fv, int(i)))) };
      }),
      sort: define('std.array.sort', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        const items = [...want.array('std.array.sort', a as Thunk)];
        const order = (x: Thunk, y: Thunk) => {
          const r = call(fv, x, y);
          if (r.k !== 'enum') return callerBlame('std.array.sort', "[| 'Lesser, 'Equal, 'Greater |]", r);
          return r.tag === 'Lesser' ? -1 : r.tag === 'Greater' ? 1 : 0;
        };
        return { k: 'array', items: mergeSort(items, order) };
      }),
      flat_map: define('std.array.flat_map', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        return {
          k: 'array',
          items: want
            .array('std.array.flat_map', a as Thunk)
            .flatMap((t) => want.array('std.array.flat_map', v2t(call(fv, t)))),
        };
      }),
      intersperse: define('std.array.intersperse', 2, ([sep, a]) => {
        const items = want.array('std.array.intersperse', a as Thunk);
        return { k: 'array', items: items.flatMap((t, i) => (i === 0 ? [t] : [sep as Thunk, t])) };
      }),
      slice: define('std.array.slice', 3, ([s, e, a]) => {
        const items = want.array('std.array.slice', a as Thunk);
        const start = want.int('std.array.slice', s as Thunk);
        const end = want.int('std.array.slice', e as Thunk);
        if (start < 0 || end > items.length || start > end) {
          return evalError(
            'EvalError::Other',
            `invalid slice [${start}, ${end}) of an array of ${items.length} elements`,
            s?.pos,
          );
        }
        return { k: 'array', items: items.slice(start, end) };
      }),
      split_at: define('std.array.split_at', 2, ([i, a]) => {
        const items = want.array('std.array.split_at', a as Thunk);
        const n = want.int('std.array.split_at', i as Thunk);
        if (n < 0 || n > items.length)
          return evalError('EvalError::Other', `split_at: index ${n} out of bounds`, i?.pos);
        return frozen({
          left: v2t({ k: 'array', items: items.slice(0, n) }),
          right: v2t({ k: 'array', items: items.slice(n) }),
        });
      }),
      replicate: define('std.array.replicate', 2, ([n, x]) => {
        const count = want.int('std.array.replicate', n as Thunk);
        if (count < 0) return callerBlame('std.array.replicate', 'std.number.Nat', int(count));
        return { k: 'array', items: Array.from({ length: count }, () => x as Thunk) };
      }),
      range: define('std.array.range', 2, ([s, e]) =>
        rangeStep(want.num('std.array.range', s as Thunk), want.num('std.array.range', e as Thunk), Num.ONE),
      ),
      range_step: define('std.array.range_step', 3, ([s, e, st]) =>
        rangeStep(
          want.num('std.array.range_step', s as Thunk),
          want.num('std.array.range_step', e as Thunk),
          want.num('std.array.range_step', st as Thunk),
        ),
      ),
      reduce_left: define('std.array.reduce_left', 2, ([f, a]) => {
        const items = want.nonEmpty('std.array.reduce_left', a as Thunk);
        const fv = (f as Thunk).force();
        let acc = items[0] as Thunk;
        for (const t of items.slice(1)) acc = v2t(call(fv, acc, t));
        return acc.force();
      }),
      reduce_right: define('std.array.reduce_right', 2, ([f, a]) => {
        const items = want.nonEmpty('std.array.reduce_right', a as Thunk);
        const fv = (f as Thunk).force();
        let acc = items.at(-1) as Thunk;
        for (let i = items.length - 2; i >= 0; i--) acc = v2t(call(fv, items[i] as Thunk, acc));
        return acc.force();
      }),
      zip_with: define('std.array.zip_with', 3, ([f, a, b]) => {
        const fv = (f as Thunk).force();
        const x = want.array('std.array.zip_with', a as Thunk);
        const y = want.array('std.array.zip_with', b as Thunk);
        const n = Math.min(x.length, y.length);
        return {
          k: 'array',
          items: Array.from({ length: n }, (_, i) => new Thunk(() => call(fv, x[i] as Thunk, y[i] as Thunk))),
        };
      }),
      map_with_index: define('std.array.map_with_index', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        return {
          k: 'array',
          items: want.array('std.array.map_with_index', a as Thunk).map((t, i) => new Thunk(() => call(fv, int(i), t))),
        };
      }),
      filter_map: define('std.array.filter_map', 2, ([f, a]) => {
        const fv = (f as Thunk).force();
        const out: Thunk[] = [];
        for (const t of want.array('std.array.filter_map', a as Thunk)) {
          const r = call(fv, t);
          if (r.k === 'enum' && r.tag === 'Some' && r.arg) out.push(r.arg);
          else if (!(r.k === 'enum' && r.tag === 'None' && !r.arg))
            return callerBlame('std.array.filter_map', "[| 'Some a, 'None |]", r);
        }
        return { k: 'array', items: out };
      }),
      dedup: define('std.array.dedup', 1, ([a]) => {
        const out: Thunk[] = [];
        for (const t of want.array('std.array.dedup', a as Thunk)) {
          const v = t.force();
          if (!out.some((o) => ev.equal(o.force(), v))) out.push(t);
        }
        return { k: 'array', items: out };
      }),
      chunk: define('std.array.chunk', 2, ([f, a]) => {
        // Consecutive elements with equal keys form one chunk.
        const fv = (f as Thunk).force();
        const out: Thunk[][] = [];
        let lastKey: Value | undefined;
        for (const t of want.array('std.array.chunk', a as Thunk)) {
          const key = call(fv, t);
          if (lastKey !== undefined && ev.equal(lastKey, key)) (out.at(-1) as Thunk[]).push(t);
          else out.push([t]);
          lastKey = key;
        }
        return arr(out.map((items) => ({ k: 'array', items })));
      }),
      NonEmpty: predicate(
        'std.array.NonEmpty',
        (v) => v.k === 'array' && v.items.length > 0,
        (v) => (v.k === 'array' ? 'empty array' : `expected an Array, got ${typeName(v)}`),
      ),
    },
    record: {
      map: define('std.record.map', 2, ([f, r]) => {
        const fv = (f as Thunk).force();
        const rec = want.record('std.record.map', r as Thunk);
        const m = new Map<string, Thunk>();
        for (const n of ev.fieldNames(rec)) m.set(n, new Thunk(() => call(fv, str(n), ev.fieldThunk(rec, n))));
        return frozen(m);
      }),
      map_values: define('std.record.map_values', 2, ([f, r]) => {
        const fv = (f as Thunk).force();
        const rec = want.record('std.record.map_values', r as Thunk);
        const m = new Map<string, Thunk>();
        for (const n of ev.fieldNames(rec)) m.set(n, new Thunk(() => call(fv, ev.fieldThunk(rec, n))));
        return frozen(m);
      }),
      fields: define('std.record.fields', 1, ([r]) =>
        arr(recordFields(want.record('std.record.fields', r as Thunk)).map(str)),
      ),
      fields_with_opts: define('std.record.fields_with_opts', 1, ([r]) =>
        arr([...want.record('std.record.fields_with_opts', r as Thunk).template.keys()].sort(byteOrder).map(str)),
      ),
      values: define('std.record.values', 1, ([r]) => {
        const rec = want.record('std.record.values', r as Thunk);
        return { k: 'array', items: recordFields(rec).map((n) => ev.fieldThunk(rec, n)) };
      }),
      has_field: define('std.record.has_field', 2, ([n, r]) =>
        bool(
          ev.hasField(want.record('std.record.has_field', r as Thunk), want.str('std.record.has_field', n as Thunk)),
        ),
      ),
      has_field_with_opts: define('std.record.has_field_with_opts', 2, ([n, r]) =>
        bool(
          want
            .record('std.record.has_field_with_opts', r as Thunk)
            .template.has(want.str('std.record.has_field_with_opts', n as Thunk)),
        ),
      ),
      get: define('std.record.get', 2, ([n, r]) => {
        const rec = want.record('std.record.get', r as Thunk);
        const name = want.str('std.record.get', n as Thunk);
        if (!ev.hasField(rec, name))
          return callerBlame('std.record.get', `a record with a field \`${name}\``, rec, n?.pos);
        return ev.fieldThunk(rec, name).force();
      }),
      get_or: define('std.record.get_or', 3, ([n, d, r]) => {
        const rec = want.record('std.record.get_or', r as Thunk);
        const name = want.str('std.record.get_or', n as Thunk);
        return ev.hasField(rec, name) ? ev.fieldThunk(rec, name).force() : (d as Thunk).force();
      }),
      insert: define('std.record.insert', 3, ([n, v, r]) => {
        const rec = want.record('std.record.insert', r as Thunk);
        const name = want.str('std.record.insert', n as Thunk);
        if (ev.hasField(rec, name))
          return evalError('EvalError::Other', `std.record.insert: the record already has a field \`${name}\``, n?.pos);
        return updated(rec, name, v as Thunk);
      }),
      insert_with_opts: define('std.record.insert_with_opts', 3, ([n, v, r]) => {
        const rec = want.record('std.record.insert_with_opts', r as Thunk);
        const name = want.str('std.record.insert_with_opts', n as Thunk);
        if (rec.template.has(name))
          return evalError(
            'EvalError::Other',
            `std.record.insert_with_opts: the record already has a field \`${name}\``,
            n?.pos,
          );
        return withOpts(rec, name, v as Thunk);
      }),
      remove: define('std.record.remove', 2, ([n, r]) => {
        const rec = want.record('std.record.remove', r as Thunk);
        const name = want.str('std.record.remove', n as Thunk);
        if (!ev.hasField(rec, name))
          return evalError('EvalError::FieldMissing', `missing field \`${name}\``, n?.pos, { field: name });
        return updated(rec, name, undefined);
      }),
      remove_with_opts: define('std.record.remove_with_opts', 2, ([n, r]) => {
        const rec = want.record('std.record.remove_with_opts', r as Thunk);
        const name = want.str('std.record.remove_with_opts', n as Thunk);
        if (!rec.template.has(name))
          return evalError('EvalError::FieldMissing', `missing field \`${name}\``, n?.pos, { field: name });
        return withOpts(rec, name, undefined);
      }),
      update: define('std.record.update', 3, ([n, v, r]) =>
        updated(want.record('std.record.update', r as Thunk), want.str('std.record.update', n as Thunk), v as Thunk),
      ),
      to_array: define('std.record.to_array', 1, ([r]) => {
        const rec = want.record('std.record.to_array', r as Thunk);
        return arr(recordFields(rec).map((n) => frozen({ field: v2t(str(n)), value: ev.fieldThunk(rec, n) })));
      }),
      from_array: define('std.record.from_array', 1, ([a]) => {
        const m = new Map<string, Thunk>();
        for (const t of want.array('std.record.from_array', a as Thunk)) {
          const e = want.record('std.record.from_array', t);
          const name = ev.access(e, 'field').force();
          if (name.k !== 'str')
            return callerBlame('std.record.from_array', 'Array { field : String, value : a }', name);
          if (m.has(name.v))
            return evalError('EvalError::Other', `std.record.from_array: duplicate field \`${name.v}\``);
          m.set(name.v, ev.access(e, 'value'));
        }
        return frozen(m);
      }),
      is_empty: define('std.record.is_empty', 1, ([r]) =>
        bool(ev.fieldNames(want.record('std.record.is_empty', r as Thunk)).length === 0),
      ),
      merge_all: define('std.record.merge_all', 1, ([a]) => {
        let acc: Value = frozen({});
        for (const t of want.array('std.record.merge_all', a as Thunk)) {
          const prev = acc;
          acc = ev.merge(v2t(prev), t);
        }
        return acc;
      }),
      filter: define('std.record.filter', 2, ([f, r]) => {
        const fv = (f as Thunk).force();
        const rec = want.record('std.record.filter', r as Thunk);
        const m = new Map<string, Thunk>();
        for (const n of ev.fieldNames(rec)) {
          const t = ev.fieldThunk(rec, n);
          if (callBool('std.record.filter', fv, v2t(str(n)), t)) m.set(n, t);
        }
        return frozen(m);
      }),
      length: define('std.record.length', 1, ([r]) =>
        int(ev.fieldNames(want.record('std.record.length', r as Thunk)).length),
      ),
      freeze: define('std.record.freeze', 1, ([r]) => {
        const rec = want.record('std.record.freeze', r as Thunk);
        return ev.restrict(rec, ev.fieldNames(rec));
      }),
      FieldsMatch: define('std.record.FieldsMatch', 1, ([re]) => {
        const pattern = want.str('std.record.FieldsMatch', re as Thunk);
        return predicate(
          `std.record.FieldsMatch "${pattern}"`,
          (v) =>
            v.k === 'record' &&
            ev.fieldNames(v).every((n) => regex('std.record.FieldsMatch', `^(?:${pattern})$`).test(n)),
          () => `field names must match /${pattern}/`,
        );
      }),
    },
    string: {
      join: define('std.string.join', 2, ([sep, a]) =>
        str(
          want
            .array('std.string.join', a as Thunk)
            .map((t) => want.str('std.string.join', t))
            .join(want.str('std.string.join', sep as Thunk)),
        ),
      ),
      split: define('std.string.split', 2, ([sep, s]) =>
        arr(
          splitGraphemeSafe(want.str('std.string.split', s as Thunk), want.str('std.string.split', sep as Thunk)).map(
            str,
          ),
        ),
      ),
      trim: define('std.string.trim', 1, ([s]) => str(want.str('std.string.trim', s as Thunk).trim())),
      characters: define('std.string.characters', 1, ([s]) =>
        arr(graphemes(want.str('std.string.characters', s as Thunk)).map(str)),
      ),
      uppercase: define('std.string.uppercase', 1, ([s]) =>
        str(want.str('std.string.uppercase', s as Thunk).toUpperCase()),
      ),
      lowercase: define('std.string.lowercase', 1, ([s]) =>
        str(want.str('std.string.lowercase', s as Thunk).toLowerCase()),
      ),
      // Matching never cuts a grapheme cluster apart: "❤" is not found inside a family emoji.
      contains: define('std.string.contains', 2, ([sub, s]) => {
        const text = want.str('std.string.contains', s as Thunk);
        return bool(substringMatches(text, want.str('std.string.contains', sub as Thunk)).length > 0);
      }),
      replace: define('std.string.replace', 3, ([pat, rep, s]) => {
        const p = want.str('std.string.replace', pat as Thunk);
        const r = want.str('std.string.replace', rep as Thunk);
        const text = want.str('std.string.replace', s as Thunk);
        return str(
          replaceAt(
            text,
            substringMatches(text, p).map((index) => ({ index, length: p.length })),
            r,
          ),
        );
      }),
      replace_regex: define('std.string.replace_regex', 3, ([pat, rep, s]) => {
        const re = regex('std.string.replace_regex', want.str('std.string.replace_regex', pat as Thunk));
        const r = want.str('std.string.replace_regex', rep as Thunk);
        const text = want.str('std.string.replace_regex', s as Thunk);
        return str(
          replaceAt(
            text,
            regexMatches(text, re).map((m) => ({ index: m.index, length: m[0].length })),
            r,
          ),
        );
      }),
      is_match: define('std.string.is_match', 2, ([pat, s]) => {
        const re = regex('std.string.is_match', want.str('std.string.is_match', pat as Thunk));
        return bool(regexMatches(want.str('std.string.is_match', s as Thunk), re, true).length > 0);
      }),
      find: define('std.string.find', 2, ([pat, s]) => {
        const text = want.str('std.string.find', s as Thunk);
        const re = regex('std.string.find', want.str('std.string.find', pat as Thunk));
        return matchRecord(text, regexMatches(text, re, true)[0] ?? null);
      }),
      find_all: define('std.string.find_all', 2, ([pat, s]) => {
        const text = want.str('std.string.find_all', s as Thunk);
        const re = regex('std.string.find_all', want.str('std.string.find_all', pat as Thunk));
        return arr(regexMatches(text, re).map((m) => matchRecord(text, m)));
      }),
      length: define('std.string.length', 1, ([s]) => int(graphemes(want.str('std.string.length', s as Thunk)).length)),
      substring: define('std.string.substring', 3, ([a, b, s]) => {
        const g = graphemes(want.str('std.string.substring', s as Thunk));
        const start = want.int('std.string.substring', a as Thunk);
        const end = want.int('std.string.substring', b as Thunk);
        if (start < 0 || end > g.length || start > end) {
          return evalError(
            'EvalError::Other',
            `substring: invalid range [${start}, ${end}) of a string of ${g.length} characters`,
            a?.pos,
          );
        }
        return str(g.slice(start, end).join(''));
      }),
      from: define('std.string.from', 1, ([x]) => str(stringable('std.string.from', x as Thunk))),
      from_number: define('std.string.from_number', 1, ([x]) =>
        str(want.num('std.string.from_number', x as Thunk).toNickelString()),
      ),
      from_enum: define('std.string.from_enum', 1, ([x]) => {
        const v = (x as Thunk).force();
        if (v.k !== 'enum' || v.arg) return callerBlame('std.string.from_enum', 'an enum tag', v);
        return str(v.tag);
      }),
      from_bool: define('std.string.from_bool', 1, ([x]) => str(String(want.bool('std.string.from_bool', x as Thunk)))),
      to_number: define('std.string.to_number', 1, ([s]) => {
        const text = want.str('std.string.to_number', s as Thunk);
        if (!Num.isNumberLiteral(text))
          return callerBlame('std.string.to_number', 'std.string.NumberLiteral', str(text));
        return num(Num.parseNumberString(text));
      }),
      to_bool: define('std.string.to_bool', 1, ([s]) => {
        const text = want.str('std.string.to_bool', s as Thunk);
        if (text !== 'true' && text !== 'false')
          return callerBlame('std.string.to_bool', 'std.string.BoolLiteral', str(text));
        return bool(text === 'true');
      }),
      to_enum: define('std.string.to_enum', 1, ([s]) => tag(want.str('std.string.to_enum', s as Thunk))),
      NonEmpty: predicate(
        'std.string.NonEmpty',
        (v) => v.k === 'str' && v.v.length > 0,
        (v) => (v.k === 'str' ? 'empty string' : `expected a String, got ${typeName(v)}`),
      ),
      Matches: define('std.string.Matches', 1, ([re]) => {
        const pattern = want.str('std.string.Matches', re as Thunk);
        return predicate(
          `std.string.Matches "${pattern}"`,
          (v) => v.k === 'str' && regex('std.string.Matches', pattern).test(v.v),
          () => `expected a string matching /${pattern}/`,
        );
      }),
      BoolLiteral: predicate('std.string.BoolLiteral', (v) => v.k === 'str' && (v.v === 'true' || v.v === 'false')),
      NumberLiteral: predicate('std.string.NumberLiteral', (v) => v.k === 'str' && Num.isNumberLiteral(v.v)),
      Character: predicate('std.string.Character', (v) => v.k === 'str' && graphemes(v.v).length === 1),
      Stringable: predicate(
        'std.string.Stringable',
        (v) => ['str', 'num', 'bool', 'null'].includes(v.k) || (v.k === 'enum' && !v.arg),
      ),
    },
    number: {
      is_integer: define('std.number.is_integer', 1, ([x]) =>
        bool(want.num('std.number.is_integer', x as Thunk).isInteger()),
      ),
      compare: define('std.number.compare', 2, ([a, b]) =>
        compareNums(want.num('std.number.compare', a as Thunk), want.num('std.number.compare', b as Thunk)),
      ),
      min: define('std.number.min', 2, ([a, b]) => {
        const x = want.num('std.number.min', a as Thunk);
        const y = want.num('std.number.min', b as Thunk);
        return num(x.cmp(y) <= 0 ? x : y);
      }),
      max: define('std.number.max', 2, ([a, b]) => {
        const x = want.num('std.number.max', a as Thunk);
        const y = want.num('std.number.max', b as Thunk);
        return num(x.cmp(y) >= 0 ? x : y);
      }),
      floor: define('std.number.floor', 1, ([x]) => num(want.num('std.number.floor', x as Thunk).floor())),
      ceil: define('std.number.ceil', 1, ([x]) => num(want.num('std.number.ceil', x as Thunk).ceil())),
      abs: define('std.number.abs', 1, ([x]) => num(want.num('std.number.abs', x as Thunk).abs())),
      fract: define('std.number.fract', 1, ([x]) => num(want.num('std.number.fract', x as Thunk).fract())),
      truncate: define('std.number.truncate', 1, ([x]) => num(want.num('std.number.truncate', x as Thunk).truncate())),
      pow: define('std.number.pow', 2, ([a, b]) =>
        num(want.num('std.number.pow', a as Thunk).pow(want.num('std.number.pow', b as Thunk))),
      ),
      log: define('std.number.log', 2, ([x, base]) =>
        num(
          Num.fromF64(
            Math.log(want.num('std.number.log', x as Thunk).toF64()) /
              Math.log(want.num('std.number.log', base as Thunk).toF64()),
          ),
        ),
      ),
      cos: mathFn('cos', Math.cos),
      sin: mathFn('sin', Math.sin),
      tan: mathFn('tan', Math.tan),
      arccos: mathFn('arccos', Math.acos),
      arcsin: mathFn('arcsin', Math.asin),
      arctan: mathFn('arctan', Math.atan),
      sqrt: mathFn('sqrt', Math.sqrt),
      arctan2: define('std.number.arctan2', 2, ([y, x]) =>
        num(
          Num.fromF64(
            Math.atan2(
              want.num('std.number.arctan2', y as Thunk).toF64(),
              want.num('std.number.arctan2', x as Thunk).toF64(),
            ),
          ),
        ),
      ),
      pi: num(Num.fromF64(Math.PI)),
      e: num(Num.fromF64(Math.E)),
      Integer,
      Nat,
      PosNat,
      NonZero,
    },
    enum: {
      is_enum_tag: define('std.enum.is_enum_tag', 1, ([x]) =>
        ((v) => bool(v.k === 'enum' && !v.arg))((x as Thunk).force()),
      ),
      is_enum_variant: define('std.enum.is_enum_variant', 1, ([x]) =>
        ((v) => bool(v.k === 'enum' && v.arg !== undefined))((x as Thunk).force()),
      ),
      to_tag_and_arg: define('std.enum.to_tag_and_arg', 1, ([x]) => {
        const v = (x as Thunk).force();
        if (v.k !== 'enum') return callerBlame('std.enum.to_tag_and_arg', 'an enum', v);
        const fields: Record<string, Thunk> = { tag: v2t(str(v.tag)) };
        if (v.arg) fields.arg = v.arg;
        return frozen(fields);
      }),
      from_tag_and_arg: define('std.enum.from_tag_and_arg', 1, ([x]) => {
        const r = want.record('std.enum.from_tag_and_arg', x as Thunk);
        const t = ev.access(r, 'tag').force();
        if (t.k !== 'str') return callerBlame('std.enum.from_tag_and_arg', '{ tag : String, arg | optional }', t);
        return ev.hasField(r, 'arg') ? { k: 'enum', tag: t.v, arg: ev.fieldThunk(r, 'arg') } : { k: 'enum', tag: t.v };
      }),
      map: define('std.enum.map', 2, ([f, x]) => {
        const v = (x as Thunk).force();
        if (v.k !== 'enum') return callerBlame('std.enum.map', 'an enum', v);
        if (!v.arg) return v; // a bare tag has nothing to map
        const arg = v.arg;
        return { k: 'enum', tag: v.tag, arg: new Thunk(() => call((f as Thunk).force(), arg)) };
      }),
      Tag: predicate(
        'std.enum.Tag',
        (v) => v.k === 'enum' && !v.arg,
        () => 'expected an enum tag',
      ),
      Enum: predicate(
        'std.enum.Enum',
        (v) => v.k === 'enum',
        () => 'expected an enum',
      ),
      TagOrString: contract(
        'std.enum.TagOrString',
        (label, value) =>
          new Thunk(() => {
            const v = value.force();
            if (v.k === 'str') return tag(v.v);
            if (v.k === 'enum' && !v.arg) return v;
            return blame(childLabel(label, { message: 'expected an enum tag or a string' }), value);
          }, value.pos),
      ),
    },
    function: {
      id: define('std.function.id', 1, ([x]) => (x as Thunk).force()),
      const: define('std.function.const', 2, ([x]) => (x as Thunk).force()),
      first: define('std.function.first', 2, ([x]) => (x as Thunk).force()),
      second: define('std.function.second', 2, ([, y]) => (y as Thunk).force()),
      compose: define('std.function.compose', 3, ([g, f, x]) =>
        call((g as Thunk).force(), v2t(call((f as Thunk).force(), x as Thunk))),
      ),
      flip: define('std.function.flip', 3, ([f, x, y]) => call((f as Thunk).force(), y as Thunk, x as Thunk)),
      pipe: define('std.function.pipe', 2, ([x, fs]) => {
        let acc = x as Thunk;
        for (const f of want.array('std.function.pipe', fs as Thunk)) acc = v2t(call(f.force(), acc));
        return acc.force();
      }),
    },
    contract: {
      from_predicate: define('std.contract.from_predicate', 1, ([f]) =>
        fromPredicate(want.fn('std.contract.from_predicate', f as Thunk)),
      ),
      from_validator: define('std.contract.from_validator', 1, ([f]) =>
        fromValidator(want.fn('std.contract.from_validator', f as Thunk)),
      ),
      custom: define('std.contract.custom', 1, ([f]) => custom(want.fn('std.contract.custom', f as Thunk))),
      apply: define('std.contract.apply', 3, ([c, l, v]) =>
        ev.applyContractValue(contractOf(c as Thunk), labelOf(l as Thunk, 'std.contract.apply'), v as Thunk).force(),
      ),
      check: define('std.contract.check', 3, ([c, l, v]) =>
        check(contractOf(c as Thunk), labelOf(l as Thunk, 'std.contract.check'), v as Thunk),
      ),
      blame: define('std.contract.blame', 1, ([l]) => blame(labelOf(l as Thunk, 'std.contract.blame'))),
      blame_with_message: define('std.contract.blame_with_message', 2, ([m, l]) =>
        blame(
          childLabel(labelOf(l as Thunk, 'std.contract.blame_with_message'), {
            message: want.str('std.contract.blame_with_message', m as Thunk),
          }),
        ),
      ),
      any_of: define('std.contract.any_of', 1, ([cs]) => {
        const contracts = want.array('std.contract.any_of', cs as Thunk);
        return contract(
          'std.contract.any_of',
          (label, value) =>
            new Thunk(() => {
              for (const c of contracts) {
                const r = check(c.force(), label, value);
                if (r.k === 'enum' && r.tag === 'Ok' && r.arg) return r.arg.force();
              }
              return blame(
                childLabel(label, { message: 'the value does not satisfy any of the contracts' }),
                value.pos,
              );
            }, value.pos),
        );
      }),
      all_of: define('std.contract.all_of', 1, ([cs]) => {
        const contracts = want.array('std.contract.all_of', cs as Thunk);
        return contract('std.contract.all_of', (label, value) =>
          contracts.reduce((acc, c) => ev.applyContract(c, label, acc), value),
        );
      }),
      Sequence: define('std.contract.Sequence', 1, ([cs]) => {
        const contracts = want.array('std.contract.Sequence', cs as Thunk);
        return contract('std.contract.Sequence', (label, value) =>
          contracts.reduce((acc, c) => ev.applyContract(c, label, acc), value),
        );
      }),
      not: define('std.contract.not', 1, ([c]) =>
        contract(
          'std.contract.not',
          (label, value) =>
            new Thunk(() => {
              const r = check((c as Thunk).force(), label, value);
              if (r.k === 'enum' && r.tag === 'Ok')
                return blame(childLabel(label, { message: 'the value satisfies the negated contract' }), value);
              return value.force();
            }, value.pos),
        ),
      ),
      Equal: define('std.contract.Equal', 1, ([expected]) =>
        contract(
          'std.contract.Equal',
          (label, value) =>
            new Thunk(() => {
              const v = value.force();
              ev.deepForce(v);
              const e = (expected as Thunk).force();
              ev.deepForce(e);
              if (!ev.equal(v, e))
                return blame(childLabel(label, { message: 'the value is not equal to the expected one' }), value);
              return v;
            }, value.pos),
        ),
      ),
      label: frozen({
        with_message: v2t(
          define('std.contract.label.with_message', 2, ([m, l]) => ({
            k: 'label',
            label: childLabel(labelOf(l as Thunk, 'with_message'), { message: want.str('with_message', m as Thunk) }),
          })),
        ),
        with_notes: v2t(
          define('std.contract.label.with_notes', 2, ([n, l]) => ({
            k: 'label',
            label: childLabel(labelOf(l as Thunk, 'with_notes'), {
              notes: want.array('with_notes', n as Thunk).map((t) => want.str('with_notes', t)),
            }),
          })),
        ),
        append_note: v2t(
          define('std.contract.label.append_note', 2, ([n, l]) => {
            const label = labelOf(l as Thunk, 'append_note');
            return {
              k: 'label',
              label: childLabel(label, { notes: [...label.notes, want.str('append_note', n as Thunk)] }),
            };
          }),
        ),
      }),
    },
    test: {
      Assert: predicate(
        'std.test.Assert',
        (v) => v.k === 'bool' && v.v,
        () => 'assertion failed',
      ),
      assert_all: define('std.test.assert_all', 1, ([a]) => {
        want.array('std.test.assert_all', a as Thunk).forEach((t, i) => {
          const v = t.force();
          if (v.k !== 'bool' || !v.v)
            blame(
              { path: [`[${i}]`], notes: [], contractName: 'std.test.Assert', message: `assertion ${i} failed` },
              t.pos,
            );
        });
        return bool(true);
      }),
    },
  };

  const top: Record<string, Value> = {
    is_number: define('std.is_number', 1, ([x]) => bool((x as Thunk).force().k === 'num')),
    is_bool: define('std.is_bool', 1, ([x]) => bool((x as Thunk).force().k === 'bool')),
    is_string: define('std.is_string', 1, ([x]) => bool((x as Thunk).force().k === 'str')),
    is_enum: define('std.is_enum', 1, ([x]) => bool((x as Thunk).force().k === 'enum')),
    is_function: define('std.is_function', 1, ([x]) => bool(['fn', 'contract'].includes((x as Thunk).force().k))),
    is_array: define('std.is_array', 1, ([x]) => bool((x as Thunk).force().k === 'array')),
    is_record: define('std.is_record', 1, ([x]) => bool((x as Thunk).force().k === 'record')),
    typeof: define('std.typeof', 1, ([x]) => tag(typeTag((x as Thunk).force()))),
    seq: define('std.seq', 2, ([a, b]) => {
      (a as Thunk).force();
      return (b as Thunk).force();
    }),
    deep_seq: define('std.deep_seq', 2, ([a, b]) => {
      ev.deepForce((a as Thunk).force());
      return (b as Thunk).force();
    }),
    serialize: define('std.serialize', 2, ([f, x]) =>
      str(serialize(ev, formatTag('std.serialize', (f as Thunk).force()), (x as Thunk).force())),
    ),
    deserialize: define('std.deserialize', 2, ([f, s]) =>
      deserialize(formatTag('std.deserialize', (f as Thunk).force()), want.str('std.deserialize', s as Thunk)),
    ),
    to_string: define('std.to_string', 1, ([x]) => str(stringable('std.to_string', x as Thunk))),
    trace: define('std.trace', 2, ([m, x]) => {
      process.stderr.write(`std.trace: ${want.str('std.trace', m as Thunk)}\n`);
      return (x as Thunk).force();
    }),
    fail_with: define('std.fail_with', 1, ([m]) =>
      blame({ path: [], notes: [], message: want.str('std.fail_with', m as Thunk) }),
    ),
    FailWith: define('std.FailWith', 1, ([m]) => {
      const message = want.str('std.FailWith', m as Thunk);
      return contract('std.FailWith', (label, value) => new Thunk(() => blame(childLabel(label, { message }), value)));
    }),
    Number: predicate(
      'Number',
      (v) => v.k === 'num',
      (v) => `expected a Number, got ${typeName(v)}`,
    ),
    String: predicate(
      'String',
      (v) => v.k === 'str',
      (v) => `expected a String, got ${typeName(v)}`,
    ),
    Bool: predicate(
      'Bool',
      (v) => v.k === 'bool',
      (v) => `expected a Bool, got ${typeName(v)}`,
    ),
    Dyn: DYN,
  };

  const std = new Map<string, Thunk>();
  for (const [n, v] of Object.entries(top)) std.set(n, v2t(v));
  for (const [m, fields] of Object.entries(modules)) {
    std.set(m, v2t(frozen(new Map(Object.entries(fields).map(([k, v]) => [k, v2t(v)])))));
  }
  void mergeRecords;
  return frozen(std);

  function rangeStep(start: Num, end: Num, step: Num): Value {
    if (step.cmp(Num.ZERO) <= 0) return callerBlame('std.array.range_step', 'a positive step', num(step));
    const items: Thunk[] = [];
    for (let x = start; x.cmp(end) < 0; x = x.add(step)) {
      items.push(v2t(num(x)));
      if (items.length > 50_000_000) return evalError('EvalError::Other', 'range too large');
    }
    return { k: 'array', items };
  }

  function withOpts(rec: RecordValue, name: string, value: Thunk | undefined): RecordValue {
    const template = new Map<string, FieldTemplate>();
    for (const [n, f] of rec.template) {
      if (n === name) continue;
      if (ev.hasField(rec, n)) {
        const t = ev.fieldThunk(rec, n);
        template.set(n, { pieces: [{ meta: emptyMeta(), build: () => t }] });
      } else template.set(n, f);
    }
    if (value) template.set(name, { pieces: [{ meta: emptyMeta(), build: () => value }] });
    return makeRecord(template, true, rec.path);
  }
}

/** `std.typeof`: the type names of typeName, and 'Other' for null. */
export function typeTag(v: Value): string {
  return v.k === 'null' ? 'Other' : typeName(v);
}

function formatTag(fname: string, v: Value): string {
  if (v.k === 'enum' && !v.arg && ['Json', 'Yaml', 'Toml', 'Text', 'YamlDocuments'].includes(v.tag)) return v.tag;
  return blame({
    path: [],
    notes: [],
    blamed: `the caller of \`${fname.split('.').at(-1)}\``,
    contractName: "[| 'Json, 'Yaml, 'Toml |]",
  });
}

export function blameMessage(e: NickelError): string {
  return e.message;
}

/** Byte-wise UTF-8 order, which is how Nickel sorts field names (not JS's UTF-16 order). */
export function byteOrder(a: string, b: string): number {
  if (a === b) return 0;
  // Below U+D800, UTF-16 code unit order is code point order, which is UTF-8 byte order.
  if (!/[\ud800-\udfff]/.test(a) && !/[\ud800-\udfff]/.test(b)) return a < b ? -1 : 1;
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ba, bb);
}

/** Splits on `sep` without cutting clusters apart; an empty last piece is dropped (Rust's split_terminator). */
function splitGraphemeSafe(s: string, sep: string): string[] {
  const parts = splitAt(s, sep);
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

function splitAt(s: string, sep: string): string[] {
  if (sep === '') return graphemes(s);
  const parts = s.split(sep);
  // A separator that matched inside a cluster (e.g. a combining mark) must not split it.
  if (parts.length === 1) return parts;
  const g = graphemes(s);
  const boundaries = new Set<number>();
  let off = 0;
  for (const c of g) {
    boundaries.add(off);
    off += c.length;
  }
  boundaries.add(off);
  const out: string[] = [];
  let start = 0;
  let from = 0;
  for (;;) {
    const i = s.indexOf(sep, from);
    if (i < 0) break;
    if (boundaries.has(i) && boundaries.has(i + sep.length)) {
      out.push(s.slice(start, i));
      start = i + sep.length;
      from = start;
    } else from = i + 1;
  }
  out.push(s.slice(start));
  return out;
}

function mergeSort<T>(items: T[], cmp: (a: T, b: T) => number): T[] {
  if (items.length <= 1) return items;
  const mid = items.length >> 1;
  const a = mergeSort(items.slice(0, mid), cmp);
  const b = mergeSort(items.slice(mid), cmp);
  const out: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(b[j] as T, a[i] as T) < 0 ? (b[j++] as T) : (a[i++] as T));
  while (i < a.length) out.push(a[i++] as T);
  while (j < b.length) out.push(b[j++] as T);
  return out;
}

export { NULL };
