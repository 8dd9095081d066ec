import { bool, frozen, num } from '../eval.js';
import { Num } from '../number.js';
import { evalError, Thunk, typeName, type Value } from '../values.js';
import { arr, def, int, type Kit, predicate, type Table, v2t, type Want } from './kit.js';

/** `std.array`. */
export function arrayStd(k: Kit): Table {
  const ev = k.ev;
  return {
    first: def(['nonEmpty'], ([a]) => (a[0] as Thunk).force()),
    last: def(['nonEmpty'], ([a]) => (a.at(-1) as Thunk).force()),
    drop_first: def(['nonEmpty'], ([a]) => ({ k: 'array', items: a.slice(1) })),
    drop_last: def(['nonEmpty'], ([a]) => ({ k: 'array', items: a.slice(0, -1) })),
    length: def(['array'], ([a]) => int(a.length)),
    map: def(['any', 'array'], ([f, items]) => ({
      k: 'array',
      items: items.map((t) => new Thunk(() => k.call(f.force(), t))),
    })),
    at: def(
      ['int', 'array'],
      ([n, items], _w, [i]) => {
        if (n < 0 || n >= items.length)
          return evalError(
            'EvalError::Other',
            `index out of bounds: ${n} (the array has ${items.length} elements)`,
            i?.pos,
          );
        return (items[n] as Thunk).force();
      },
      { lastFirst: true },
    ),
    at_or: def(
      ['int', 'any', 'array'],
      ([n, d, items]) => (n >= 0 && n < items.length ? (items[n] as Thunk).force() : d.force()),
      { lastFirst: true },
    ),
    concat: def(['array', 'array'], ([a, b]) => ({ k: 'array', items: [...a, ...b] })),
    fold_left: def(['value', 'any', 'array'], ([fv, init, items]) => {
      let acc = init;
      for (const t of items) acc = v2t(k.call(fv, acc, t));
      return acc.force();
    }),
    fold_right: def(['value', 'any', 'array'], ([fv, init, items]) => {
      let acc = init;
      for (let i = items.length - 1; i >= 0; i--) acc = v2t(k.call(fv, items[i] as Thunk, acc));
      return acc.force();
    }),
    prepend: def(['any', 'array'], ([x, items]) => ({ k: 'array', items: [x, ...items] })),
    append: def(['any', 'array'], ([x, items]) => ({ k: 'array', items: [...items, x] })),
    reverse: def(['array'], ([items]) => ({ k: 'array', items: [...items].reverse() })),
    filter: def(['value', 'array'], ([fv, items], w) => ({
      k: 'array',
      items: items.filter((t) => w.bool(fv, t)),
    })),
    flatten: def(['array'], ([items], w) => ({ k: 'array', items: items.flatMap((t) => w.arg('array', t)) })),
    all: def(['value', 'array'], ([fv, items], w) => bool(items.every((t) => w.bool(fv, t)))),
    any: def(['value', 'array'], ([fv, items], w) => bool(items.some((t) => w.bool(fv, t)))),
    elem: def(['value', 'array'], ([v, items]) => bool(items.some((t) => ev.equal(v, t.force())))),
    partition: def(['value', 'array'], ([fv, items], w) => {
      const right: Thunk[] = [];
      const wrong: Thunk[] = [];
      for (const t of items) (w.bool(fv, t) ? right : wrong).push(t);
      return frozen({ right: v2t({ k: 'array', items: right }), wrong: v2t({ k: 'array', items: wrong }) });
    }),
    group: def(['value', 'array'], ([fv, items], w) => {
      const groups = new Map<string, Thunk[]>();
      for (const t of items) {
        const key = k.call(fv, t);
        if (key.k !== 'str') return w.blame('a function returning String', key);
        const g = groups.get(key.v) ?? [];
        g.push(t);
        groups.set(key.v, g);
      }
      const m = new Map<string, Thunk>();
      for (const [key, g] of groups) m.set(key, v2t({ k: 'array', items: g }));
      return frozen(m);
    }),
    generate: def(['any', 'int'], ([f, count], w) => {
      if (count < 0) return w.blame('std.number.Nat', int(count));
      const fv = f.force();
      return { k: 'array', items: Array.from({ length: count }, (_, i) => new Thunk(() => k.call(fv, int(i)))) };
    }),
    sort: def(['value', 'array'], ([fv, items], w) => {
      const order = (x: Thunk, y: Thunk) => {
        const r = k.call(fv, x, y);
        if (r.k !== 'enum') return w.blame("[| 'Lesser, 'Equal, 'Greater |]", r);
        return r.tag === 'Lesser' ? -1 : r.tag === 'Greater' ? 1 : 0;
      };
      return { k: 'array', items: mergeSort([...items], order) };
    }),
    flat_map: def(['value', 'array'], ([fv, items], w) => ({
      k: 'array',
      items: items.flatMap((t) => w.arg('array', v2t(k.call(fv, t)))),
    })),
    intersperse: def(['any', 'array'], ([sep, items]) => ({
      k: 'array',
      items: items.flatMap((t, i) => (i === 0 ? [t] : [sep, t])),
    })),
    slice: def(
      ['int', 'int', 'array'],
      ([start, end, items], _w, [s]) => {
        if (start < 0 || end > items.length || start > end) {
          return evalError(
            'EvalError::Other',
            `invalid slice [${start}, ${end}) of an array of ${items.length} elements`,
            s?.pos,
          );
        }
        return { k: 'array', items: items.slice(start, end) };
      },
      { lastFirst: true },
    ),
    split_at: def(
      ['int', 'array'],
      ([n, items], _w, [i]) => {
        if (n < 0 || n > items.length)
          return evalError('EvalError::Other', `split_at: index ${n} out of bounds`, i?.pos);
        return frozen({
          left: v2t({ k: 'array', items: items.slice(0, n) }),
          right: v2t({ k: 'array', items: items.slice(n) }),
        });
      },
      { lastFirst: true },
    ),
    replicate: def(['int', 'any'], ([count, x], w) => {
      if (count < 0) return w.blame('std.number.Nat', int(count));
      return { k: 'array', items: Array.from({ length: count }, () => x) };
    }),
    range: def(['num', 'num'], ([s, e], w) => rangeStep(s, e, Num.ONE, w)),
    range_step: def(['num', 'num', 'num'], ([s, e, st], w) => rangeStep(s, e, st, w)),
    reduce_left: def(
      ['value', 'nonEmpty'],
      ([fv, items]) => {
        let acc = items[0] as Thunk;
        for (const t of items.slice(1)) acc = v2t(k.call(fv, acc, t));
        return acc.force();
      },
      { lastFirst: true },
    ),
    reduce_right: def(
      ['value', 'nonEmpty'],
      ([fv, items]) => {
        let acc = items.at(-1) as Thunk;
        for (let i = items.length - 2; i >= 0; i--) acc = v2t(k.call(fv, items[i] as Thunk, acc));
        return acc.force();
      },
      { lastFirst: true },
    ),
    zip_with: def(['value', 'array', 'array'], ([fv, x, y]) => {
      const n = Math.min(x.length, y.length);
      return {
        k: 'array',
        items: Array.from({ length: n }, (_, i) => new Thunk(() => k.call(fv, x[i] as Thunk, y[i] as Thunk))),
      };
    }),
    map_with_index: def(['value', 'array'], ([fv, items]) => ({
      k: 'array',
      items: items.map((t, i) => new Thunk(() => k.call(fv, int(i), t))),
    })),
    filter_map: def(['value', 'array'], ([fv, items], w) => {
      const out: Thunk[] = [];
      for (const t of items) {
        const r = k.call(fv, t);
        if (r.k === 'enum' && r.tag === 'Some' && r.arg) out.push(r.arg);
        else if (!(r.k === 'enum' && r.tag === 'None' && !r.arg)) return w.blame("[| 'Some a, 'None |]", r);
      }
      return { k: 'array', items: out };
    }),
    dedup: def(['array'], ([items]) => {
      const out: Thunk[] = [];
      for (const t of items) {
        const v = t.force();
        if (!out.some((o) => ev.equal(o.force(), v))) out.push(t);
      }
      return { k: 'array', items: out };
    }),
    // Consecutive elements with equal keys form one chunk.
    chunk: def(['value', 'array'], ([fv, items]) => {
      const out: Thunk[][] = [];
      let lastKey: Value | undefined;
      for (const t of items) {
        const key = k.call(fv, t);
        if (lastKey !== undefined && ev.equal(lastKey, key)) (out.at(-1) as Thunk[]).push(t);
        else out.push([t]);
        lastKey = key;
      }
      return arr(out.map((g) => ({ k: 'array', items: g })));
    }),
    NonEmpty: predicate(
      'std.array.NonEmpty',
      (v) => v.k === 'array' && v.items.length > 0,
      (v) => (v.k === 'array' ? 'empty array' : `expected an Array, got ${typeName(v)}`),
    ),
  };
}

function rangeStep(start: Num, end: Num, step: Num, w: Want): Value {
  if (step.cmp(Num.ZERO) <= 0) return w.blame('a positive step', num(step));
  const items: Thunk[] = [];
  for (let x = start; x.cmp(end) < 0; x = x.add(step)) {
    items.push(v2t(num(x)));
    if (items.length > 50_000_000) return evalError('EvalError::Other', 'range too large');
  }
  return { k: 'array', items };
}

/** Stable, as Nickel's sort is; the comparison is the user's function. */
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
