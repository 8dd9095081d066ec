import { bool, DYN, str } from '../eval.js';
import { deserialize, serialize } from '../serialize.js';
import { blame, childLabel, Thunk, typeName, typeTag } from '../values.js';
import { contract, def, type Kit, predicate, type Table, tag } from './kit.js';

/** The functions and contracts at the top of `std` (std.is_number, std.serialize, std.Number, …). */
export function topStd(k: Kit): Table {
  const ev = k.ev;
  return {
    is_number: def(['value'], ([v]) => bool(v.k === 'num')),
    is_bool: def(['value'], ([v]) => bool(v.k === 'bool')),
    is_string: def(['value'], ([v]) => bool(v.k === 'str')),
    is_enum: def(['value'], ([v]) => bool(v.k === 'enum')),
    is_function: def(['value'], ([v]) => bool(['fn', 'contract'].includes(v.k))),
    is_array: def(['value'], ([v]) => bool(v.k === 'array')),
    is_record: def(['value'], ([v]) => bool(v.k === 'record')),
    typeof: def(['value'], ([v]) => tag(typeTag(v))),
    seq: def(['any', 'any'], ([a, b]) => {
      a.force();
      return b.force();
    }),
    deep_seq: def(['any', 'any'], ([a, b]) => {
      ev.deepForce(a.force());
      return b.force();
    }),
    serialize: def(['format', 'value'], ([format, v]) => str(serialize(ev, format, v))),
    deserialize: def(['format', 'str'], ([format, s]) => deserialize(format, s)),
    to_string: def(['stringable'], ([s]) => str(s)),
    trace: def(['str', 'any'], ([m, x]) => {
      process.stderr.write(`std.trace: ${m}\n`);
      return x.force();
    }),
    fail_with: def(['str'], ([message]) => blame({ path: [], notes: [], message })),
    FailWith: def(['str'], ([message]) =>
      contract('std.FailWith', (label, value) => new Thunk(() => blame(childLabel(label, { message }), value))),
    ),
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
}
