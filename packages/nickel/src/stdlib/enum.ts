import { bool, frozen, str } from '../eval.js';
import { blame, childLabel, Thunk } from '../values.js';
import { contract, def, type Kit, predicate, type Table, tag, v2t } from './kit.js';

/** `std.enum`. */
export function enumStd(k: Kit): Table {
  const ev = k.ev;
  return {
    is_enum_tag: def(['value'], ([v]) => bool(v.k === 'enum' && !v.arg)),
    is_enum_variant: def(['value'], ([v]) => bool(v.k === 'enum' && v.arg !== undefined)),
    to_tag_and_arg: def(['value'], ([v], w) => {
      if (v.k !== 'enum') return w.blame('an enum', v);
      const fields: Record<string, Thunk> = { tag: v2t(str(v.tag)) };
      if (v.arg) fields.arg = v.arg;
      return frozen(fields);
    }),
    from_tag_and_arg: def(['record'], ([r], w) => {
      const t = ev.access(r, 'tag').force();
      if (t.k !== 'str') return w.blame('{ tag : String, arg | optional }', t);
      return ev.hasField(r, 'arg') ? { k: 'enum', tag: t.v, arg: ev.fieldThunk(r, 'arg') } : { k: 'enum', tag: t.v };
    }),
    map: def(['any', 'value'], ([f, v], w) => {
      if (v.k !== 'enum') return w.blame('an enum', v);
      if (!v.arg) return v; // a bare tag has nothing to map
      const arg = v.arg;
      return { k: 'enum', tag: v.tag, arg: new Thunk(() => k.call(f.force(), arg)) };
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
  };
}
