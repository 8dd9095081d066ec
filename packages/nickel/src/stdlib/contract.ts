import { blame, type ContractValue, childLabel, Thunk, type Value } from '../values.js';
import { contract, def, type Kit, type Table } from './kit.js';

/** `std.contract`: contracts from predicates, validators and custom functions; labels; combinators. */
export function contractStd(k: Kit): Table {
  const ev = k.ev;
  const fromValidator = (f: Value, name = 'validator'): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const r = k.call(f, value);
          if (r.k === 'enum' && r.tag === 'Ok' && !r.arg) return value.force();
          if (r.k === 'enum' && r.tag === 'Error') return blame(k.errorToLabel(label, r.arg?.force()), value);
          return blame(childLabel(label, { message: "a validator must return 'Ok or 'Error { .. }" }), value);
        }, value.pos),
    );
  const custom = (f: Value, name = 'custom contract'): ContractValue =>
    contract(
      name,
      (label, value) =>
        new Thunk(() => {
          const r = k.call(f, { k: 'label', label }, value);
          if (r.k === 'enum' && r.tag === 'Ok' && r.arg) return r.arg.force();
          if (r.k === 'enum' && r.tag === 'Error') return blame(k.errorToLabel(label, r.arg?.force()), value);
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
          const r = k.call(f, value);
          if (r.k !== 'bool') return blame(childLabel(label, { message: 'a predicate must return a Bool' }), value);
          if (!r.v) return blame(label, value);
          return value.force();
        }, value.pos),
    );

  return {
    from_predicate: def(['fn'], ([f]) => fromPredicate(f)),
    from_validator: def(['fn'], ([f]) => fromValidator(f)),
    custom: def(['fn'], ([f]) => custom(f)),
    apply: def(['value', 'label', 'any'], ([c, label, v]) => ev.applyContractValue(c, label, v).force()),
    check: def(['value', 'label', 'any'], ([c, label, v]) => k.check(c, label, v)),
    blame: def(['label'], ([label]) => blame(label)),
    blame_with_message: def(['str', 'label'], ([message, label]) => blame(childLabel(label, { message })), {
      lastFirst: true,
    }),
    any_of: def(['array'], ([contracts]) =>
      contract(
        'std.contract.any_of',
        (label, value) =>
          new Thunk(() => {
            for (const c of contracts) {
              const r = k.check(c.force(), label, value);
              if (r.k === 'enum' && r.tag === 'Ok' && r.arg) return r.arg.force();
            }
            return blame(childLabel(label, { message: 'the value does not satisfy any of the contracts' }), value.pos);
          }, value.pos),
      ),
    ),
    all_of: def(['array'], ([contracts]) =>
      contract('std.contract.all_of', (label, value) =>
        contracts.reduce((acc, c) => ev.applyContract(c, label, acc), value),
      ),
    ),
    Sequence: def(['array'], ([contracts]) =>
      contract('std.contract.Sequence', (label, value) =>
        contracts.reduce((acc, c) => ev.applyContract(c, label, acc), value),
      ),
    ),
    not: def(['any'], ([c]) =>
      contract(
        'std.contract.not',
        (label, value) =>
          new Thunk(() => {
            const r = k.check(c.force(), label, value);
            if (r.k === 'enum' && r.tag === 'Ok')
              return blame(childLabel(label, { message: 'the value satisfies the negated contract' }), value);
            return value.force();
          }, value.pos),
      ),
    ),
    Equal: def(['any'], ([expected]) =>
      contract(
        'std.contract.Equal',
        (label, value) =>
          new Thunk(() => {
            const v = value.force();
            ev.deepForce(v);
            const e = expected.force();
            ev.deepForce(e);
            if (!ev.equal(v, e))
              return blame(childLabel(label, { message: 'the value is not equal to the expected one' }), value);
            return v;
          }, value.pos),
      ),
    ),
    label: k.module('std.contract.label', {
      with_message: def(
        ['str', 'label'],
        ([message, label]) => ({ k: 'label', label: childLabel(label, { message }) }),
        {
          lastFirst: true,
        },
      ),
      with_notes: def(
        ['array', 'label'],
        ([notes, label], w) => ({ k: 'label', label: childLabel(label, { notes: notes.map((t) => w.arg('str', t)) }) }),
        { lastFirst: true },
      ),
      append_note: def(
        ['str', 'label'],
        ([note, label]) => ({ k: 'label', label: childLabel(label, { notes: [...label.notes, note] }) }),
        { lastFirst: true },
      ),
    }),
  };
}
