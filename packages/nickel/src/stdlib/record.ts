import { emptyMeta } from '../ast.js';
import { bool, type Evaluator, frozen, makeRecord, str } from '../eval.js';
import { byteOrder, evalError, type FieldTemplate, type RecordValue, Thunk, type Value } from '../values.js';
import { arr, def, int, type Kit, predicate, type Table, v2t } from './kit.js';
import { regex } from './text.js';

/** `std.record`. */
export function recordStd(k: Kit): Table {
  const ev = k.ev;
  const recordFields = (r: RecordValue) => ev.fieldNames(r).sort(byteOrder);
  return {
    map: def(['value', 'record'], ([fv, rec]) => {
      const m = new Map<string, Thunk>();
      for (const n of ev.fieldNames(rec)) m.set(n, new Thunk(() => k.call(fv, str(n), ev.fieldThunk(rec, n))));
      return frozen(m);
    }),
    map_values: def(['value', 'record'], ([fv, rec]) => {
      const m = new Map<string, Thunk>();
      for (const n of ev.fieldNames(rec)) m.set(n, new Thunk(() => k.call(fv, ev.fieldThunk(rec, n))));
      return frozen(m);
    }),
    fields: def(['record'], ([rec]) => arr(recordFields(rec).map(str))),
    fields_with_opts: def(['record'], ([rec]) => arr([...rec.template.keys()].sort(byteOrder).map(str))),
    values: def(['record'], ([rec]) => ({ k: 'array', items: recordFields(rec).map((n) => ev.fieldThunk(rec, n)) })),
    has_field: def(['str', 'record'], ([name, rec]) => bool(ev.hasField(rec, name)), { lastFirst: true }),
    has_field_with_opts: def(['str', 'record'], ([name, rec]) => bool(rec.template.has(name)), { lastFirst: true }),
    get: def(
      ['str', 'record'],
      ([name, rec], w, [n]) => {
        if (!ev.hasField(rec, name)) return w.blame(`a record with a field \`${name}\``, rec, n?.pos);
        return ev.fieldThunk(rec, name).force();
      },
      { lastFirst: true },
    ),
    get_or: def(
      ['str', 'any', 'record'],
      ([name, d, rec]) => (ev.hasField(rec, name) ? ev.fieldThunk(rec, name).force() : d.force()),
      { lastFirst: true },
    ),
    insert: def(
      ['str', 'any', 'record'],
      ([name, v, rec], _w, [n]) => {
        if (ev.hasField(rec, name))
          return evalError('EvalError::Other', `std.record.insert: the record already has a field \`${name}\``, n?.pos);
        return updated(ev, rec, name, v);
      },
      { lastFirst: true },
    ),
    insert_with_opts: def(
      ['str', 'any', 'record'],
      ([name, v, rec], _w, [n]) => {
        if (rec.template.has(name))
          return evalError(
            'EvalError::Other',
            `std.record.insert_with_opts: the record already has a field \`${name}\``,
            n?.pos,
          );
        return withOpts(ev, rec, name, v);
      },
      { lastFirst: true },
    ),
    remove: def(
      ['str', 'record'],
      ([name, rec], _w, [n]) => {
        if (!ev.hasField(rec, name))
          return evalError('EvalError::FieldMissing', `missing field \`${name}\``, n?.pos, { field: name });
        return updated(ev, rec, name, undefined);
      },
      { lastFirst: true },
    ),
    remove_with_opts: def(
      ['str', 'record'],
      ([name, rec], _w, [n]) => {
        if (!rec.template.has(name))
          return evalError('EvalError::FieldMissing', `missing field \`${name}\``, n?.pos, { field: name });
        return withOpts(ev, rec, name, undefined);
      },
      { lastFirst: true },
    ),
    update: def(['str', 'any', 'record'], ([name, v, rec]) => updated(ev, rec, name, v), { lastFirst: true }),
    to_array: def(['record'], ([rec]) =>
      arr(recordFields(rec).map((n) => frozen({ field: v2t(str(n)), value: ev.fieldThunk(rec, n) }))),
    ),
    from_array: def(['array'], ([items], w) => {
      const m = new Map<string, Thunk>();
      for (const t of items) {
        const e = w.arg('record', t);
        const name = ev.access(e, 'field').force();
        if (name.k !== 'str') return w.blame('Array { field : String, value : a }', name);
        if (m.has(name.v)) return evalError('EvalError::Other', `std.record.from_array: duplicate field \`${name.v}\``);
        m.set(name.v, ev.access(e, 'value'));
      }
      return frozen(m);
    }),
    is_empty: def(['record'], ([rec]) => bool(ev.fieldNames(rec).length === 0)),
    merge_all: def(['array'], ([items]) => {
      let acc: Value = frozen({});
      for (const t of items) {
        const prev = acc;
        acc = ev.merge(v2t(prev), t);
      }
      return acc;
    }),
    filter: def(['value', 'record'], ([fv, rec], w) => {
      const m = new Map<string, Thunk>();
      for (const n of ev.fieldNames(rec)) {
        const t = ev.fieldThunk(rec, n);
        if (w.bool(fv, v2t(str(n)), t)) m.set(n, t);
      }
      return frozen(m);
    }),
    length: def(['record'], ([rec]) => int(ev.fieldNames(rec).length)),
    freeze: def(['record'], ([rec]) => ev.restrict(rec, ev.fieldNames(rec))),
    FieldsMatch: def(['str'], ([pattern]) =>
      predicate(
        `std.record.FieldsMatch "${pattern}"`,
        (v) =>
          v.k === 'record' &&
          ev.fieldNames(v).every((n) => regex('std.record.FieldsMatch', `^(?:${pattern})$`).test(n)),
        () => `field names must match /${pattern}/`,
      ),
    ),
  };
}

/** The record's fields as they are now, with `name` set to `value` (or removed), frozen. */
function updated(ev: Evaluator, r: RecordValue, name: string, value: Thunk | undefined): RecordValue {
  const m = new Map<string, Thunk>();
  for (const n of ev.fieldNames(r)) if (n !== name) m.set(n, ev.fieldThunk(r, n));
  if (value) m.set(name, value);
  return frozen(m, r.path);
}

/** The same, keeping optional fields without a value as they are. */
function withOpts(ev: Evaluator, rec: RecordValue, name: string, value: Thunk | undefined): RecordValue {
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
