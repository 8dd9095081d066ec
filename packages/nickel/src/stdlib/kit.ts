import type { Pos } from '../ast.js';
import { NickelError } from '../errors.js';
import { type Evaluator, fn, frozen, num, str } from '../eval.js';
import { Num } from '../number.js';
import {
  blame,
  type ContractValue,
  childLabel,
  type Label,
  type RecordValue,
  Thunk,
  textOf,
  typeName,
  type Value,
} from '../values.js';

export const v2t = (v: Value): Thunk => Thunk.of(v);
export const tag = (t: string, arg?: Value): Value =>
  arg ? { k: 'enum', tag: t, arg: v2t(arg) } : { k: 'enum', tag: t };
export const arr = (items: Value[]): Value => ({ k: 'array', items: items.map(v2t) });
export const int = (n: number): Value => num(Num.of(n));

export const contract = (name: string, apply: ContractValue['apply']): ContractValue => ({
  k: 'contract',
  name,
  apply,
});

/** A contract that tests the forced value; `message` says why it failed. */
export const predicate = (name: string, test: (v: Value) => boolean, message?: (v: Value) => string): ContractValue =>
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

/**
 * What a std function's argument must be. The wrapper checks it (blaming the caller, as Nickel's typed functions
 * do) and hands the implementation the checked value: `any` the thunk untouched, `value` the forced value unchecked.
 */
export interface ArgTypes {
  any: Thunk;
  value: Value;
  num: Num;
  int: number;
  str: string;
  bool: boolean;
  array: Thunk[];
  nonEmpty: Thunk[];
  record: RecordValue;
  fn: Value;
  label: Label;
  /** A string, number, bool, null or bare enum tag, as its text. */
  stringable: string;
  /** `'Json`, `'Yaml`, `'Toml`, `'Text` or `'YamlDocuments`. */
  format: string;
}
export type ArgKind = keyof ArgTypes;
export type Args<C extends readonly ArgKind[]> = { [K in keyof C]: ArgTypes[C[K]] };

/** Checks bound to one std function's name, for the implementation's own checks (elements, callback results). */
export interface Want {
  readonly name: string;
  /** Blames the caller: `expected` was wanted, `got` came. */
  blame(expected: string, got: Value, pos?: Pos): never;
  arg<K extends ArgKind>(kind: K, t: Thunk): ArgTypes[K];
  /** Calls `f` and wants a Bool back. */
  bool(f: Value, ...args: Thunk[]): boolean;
}

export interface StdFn {
  args: readonly ArgKind[];
  /** Check the last argument (the value worked on) before the others. */
  lastFirst?: boolean;
  impl: (args: unknown[], w: Want, raw: Thunk[]) => Value;
}

/**
 * One std function: what each argument must be, and what it does with the checked arguments (`raw`: the argument
 * thunks, for error positions).
 */
export function def<const C extends readonly ArgKind[]>(
  args: C,
  impl: (args: Args<C>, w: Want, raw: Thunk[]) => Value,
  o: { lastFirst?: boolean } = {},
): StdFn {
  return { args, impl: impl as unknown as StdFn['impl'], ...(o.lastFirst ? { lastFirst: true } : {}) };
}

/** A namespace: std functions, contracts and constants by name. */
export type Table = Record<string, StdFn | Value>;

const isStdFn = (x: StdFn | Value): x is StdFn => 'impl' in x;

const formats = ['Json', 'Yaml', 'Toml', 'Text', 'YamlDocuments'];

/** What std functions share: the evaluator and the calls, contracts and records built over it. */
export class Kit {
  constructor(readonly ev: Evaluator) {}

  call(f: Value, ...args: (Value | Thunk)[]): Value {
    return this.ev.applyN(
      f,
      args.map((a) => (a instanceof Thunk ? a : v2t(a))),
    );
  }

  /** The checks of the function `name` (blame names the caller of its last segment). */
  want(name: string): Want {
    const short = name.split('.').at(-1);
    const blameCaller = (expected: string, got: Value, pos?: Pos): never =>
      blame(
        {
          path: [],
          notes: [],
          blamed: `the caller of \`${short}\``,
          contractName: expected,
          message: `expected ${expected}, got ${typeName(got)}`,
        },
        pos,
      );
    const w: Want = {
      name,
      blame: blameCaller,
      arg: (kind, t) => this.checkArg(kind, t, short as string, blameCaller) as never,
      bool: (f, ...args) => {
        const r = this.call(f, ...args);
        if (r.k !== 'bool') return blameCaller('a function returning Bool', r);
        return r.v;
      },
    };
    return w;
  }

  private checkArg(
    kind: ArgKind,
    t: Thunk,
    short: string,
    blameCaller: (expected: string, got: Value, pos?: Pos) => never,
  ): ArgTypes[ArgKind] {
    if (kind === 'any') return t;
    const v = t.force();
    switch (kind) {
      case 'value':
        return v;
      case 'num':
        if (v.k !== 'num') blameCaller('Number', v, t.pos);
        return (v as { v: Num }).v;
      case 'int': {
        if (v.k !== 'num') blameCaller('Number', v, t.pos);
        const n = (v as { v: Num }).v;
        if (!n.isInteger()) blameCaller('std.number.Integer', { k: 'num', v: n }, t.pos);
        return Number(n.toF64());
      }
      case 'str':
        if (v.k !== 'str') blameCaller('String', v, t.pos);
        return (v as { v: string }).v;
      case 'bool':
        if (v.k !== 'bool') blameCaller('Bool', v, t.pos);
        return (v as { v: boolean }).v;
      case 'array':
        if (v.k !== 'array') blameCaller('Array', v, t.pos);
        return (v as { items: Thunk[] }).items;
      case 'nonEmpty': {
        if (v.k !== 'array') blameCaller('Array', v, t.pos);
        const items = (v as { items: Thunk[] }).items;
        if (items.length === 0) {
          blame(
            {
              path: [],
              notes: [],
              blamed: `the caller of \`${short}\``,
              contractName: 'std.array.NonEmpty',
              message: 'empty array',
            },
            t.pos,
          );
        }
        return items;
      }
      case 'record':
        if (v.k !== 'record') blameCaller('Record', v, t.pos);
        return v as RecordValue;
      case 'fn':
        if (v.k !== 'fn') blameCaller('a function', v, t.pos);
        return v;
      case 'label':
        if (v.k !== 'label') blameCaller('a contract label', v, t.pos);
        return (v as { label: Label }).label;
      case 'stringable':
        return textOf(v) ?? blameCaller('std.string.Stringable', v, t.pos);
      case 'format':
        if (v.k === 'enum' && !v.arg && formats.includes(v.tag)) return v.tag;
        return blame({
          path: [],
          notes: [],
          blamed: `the caller of \`${short}\``,
          contractName: "[| 'Json, 'Yaml, 'Toml |]",
        });
    }
  }

  /** A namespace's fields: each function curried to its arity, checking its arguments (named `<ns>.<key>`). */
  fields(ns: string, table: Table): Map<string, Thunk> {
    const fields = new Map<string, Thunk>();
    for (const [key, entry] of Object.entries(table)) {
      fields.set(key, v2t(isStdFn(entry) ? this.define(`${ns}.${key}`, entry) : entry));
    }
    return fields;
  }

  /** The namespace as a record. */
  module(ns: string, table: Table): RecordValue {
    return frozen(this.fields(ns, table));
  }

  /** The one checking wrapper: collects the arguments, checks each as declared, runs the implementation. */
  define(name: string, f: StdFn): Value {
    const w = this.want(name);
    const arity = f.args.length;
    const inOrder = [...f.args.keys()];
    const order = f.lastFirst ? [arity - 1, ...inOrder.slice(0, -1)] : inOrder;
    const run = (got: Thunk[]): Value => {
      const checked: unknown[] = new Array(arity);
      for (const i of order) checked[i] = w.arg(f.args[i] as ArgKind, got[i] as Thunk);
      return f.impl(checked, w, got);
    };
    const curry = (got: Thunk[]): Value =>
      fn(name, (a) => {
        const args = [...got, a];
        return args.length === arity ? run(args) : curry(args);
      });
    return curry([]);
  }

  /** Runs the immediate part of a contract: 'Ok value or 'Error { message, notes }. */
  check(c: Value, label: Label, value: Thunk): Value {
    // A check that catches blame must see it: no error recovery inside.
    const recover = this.ev.recover;
    this.ev.recover = undefined;
    try {
      const out = this.ev.applyContractValue(c, label, value);
      const forced = out.force();
      return tag('Ok', forced);
    } catch (e) {
      if (e instanceof NickelError && e.kind === 'EvalError::BlameError') {
        const fields: Record<string, Thunk> = {};
        if (e.message) fields.message = v2t(str(e.message));
        if (e.notes.length) fields.notes = v2t(arr(e.notes.map(str)));
        return tag('Error', frozen(fields));
      }
      throw e;
    } finally {
      this.ev.recover = recover;
    }
  }

  /** The label an `'Error { message, notes }` of a validator or custom contract blames with. */
  errorToLabel(label: Label, err: Value | undefined): Label {
    const ev = this.ev;
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
  }
}
