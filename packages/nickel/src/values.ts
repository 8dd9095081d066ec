import type { Meta, Node, Pos } from './ast.js';
import { NickelError, type NickelErrorDetails } from './errors.js';
import type { Num } from './number.js';

// ------------------------------------------------------------------ values

export type Value =
  | { k: 'num'; v: Num }
  | { k: 'str'; v: string }
  | { k: 'bool'; v: boolean }
  | { k: 'null' }
  | { k: 'enum'; tag: string; arg?: Thunk }
  | { k: 'array'; items: Thunk[] }
  | RecordValue
  | FnValue
  | { k: 'label'; label: Label }
  | ContractValue;

export interface FnValue {
  k: 'fn';
  /** Name for messages (`contract broken by the caller of \`first\``). */
  name?: string;
  call(arg: Thunk): Value;
}

/** A contract that is not a plain value: types (Number, Array C, A -> B...) and std.contract.* results. */
export interface ContractValue {
  k: 'contract';
  name: string;
  /** Applies the contract: returns the (possibly wrapped) value, or throws a blame error. */
  apply(label: Label, value: Thunk): Thunk;
}

// ------------------------------------------------------------------ thunks

/** Call-by-need: computed once; re-entering one that is being computed is infinite recursion. */
export class Thunk {
  private state: 0 | 1 | 2 = 0; // 0 pending, 1 running, 2 done
  private value: Value | undefined;
  private compute: (() => Value) | undefined;

  constructor(
    compute: () => Value,
    readonly pos?: Pos,
  ) {
    this.compute = compute;
  }

  static of(v: Value, pos?: Pos): Thunk {
    const t = new Thunk(() => v, pos);
    t.state = 2;
    t.value = v;
    t.compute = undefined;
    return t;
  }

  force(): Value {
    if (this.state === 2) return this.value as Value;
    if (this.state === 1) {
      throw new NickelError('EvalError::InfiniteRecursion', 'infinite recursion: a value needs itself to be computed', {
        ...(this.pos ? { span: this.pos.src.span(this.pos.start, this.pos.end) } : {}),
      });
    }
    this.state = 1;
    try {
      const v = (this.compute as () => Value)();
      this.value = v;
      this.state = 2;
      this.compute = undefined;
      return v;
    } catch (e) {
      this.state = 0;
      throw e;
    }
  }

  get done(): boolean {
    return this.state === 2;
  }
}

// ------------------------------------------------------------------ environments

/** Lexical scope: a chain of frames. */
export class Env {
  private vars = new Map<string, Thunk>();
  constructor(readonly parent?: Env) {}

  lookup(name: string): Thunk | undefined {
    for (let e: Env | undefined = this; e; e = e.parent) {
      const t = e.vars.get(name);
      if (t) return t;
    }
    return undefined;
  }
  set(name: string, t: Thunk): void {
    this.vars.set(name, t);
  }
  child(): Env {
    return new Env(this);
  }
}

// ------------------------------------------------------------------ records

/**
 * A record is a fixed point: each field is a list of pieces (definitions and metadata from the
 * literal and from every merge), and literal pieces are evaluated with the *final* record in scope
 * (recursive overriding). Merging concatenates pieces and takes a new fixed point.
 */
export interface Piece {
  /** Builds this piece's value with the final record in scope; absent: no definition. */
  build?: (rec: RecordValue) => Thunk;
  meta: Meta;
  /** Environment to evaluate the contracts of `meta` in (or a function of the final record). */
  env?: Env;
  envFor?: (rec: RecordValue) => Env;
  /** Contracts already evaluated (from applying a dictionary or record contract). */
  contracts?: PendingContract[];
  pos?: Pos;
  /** The field's name in the source (`memroy_gb` of `spec.memroy_gb = 4`): where a caret points at the field. */
  namePos?: Pos;
}

export interface PendingContract {
  contract: Thunk;
  label: Label;
}

export interface FieldTemplate {
  pieces: Piece[];
}

export type RecordSelf = Map<string, Thunk>;

export interface RecordValue {
  k: 'record';
  template: Map<string, FieldTemplate>;
  /** The field thunks of the fixed point (built on first use). */
  self: RecordSelf;
  /** A closed record contract (`{ a | T }` without `..`); only matters when used as a contract. */
  open: boolean;
  /** Field path of this record from the root of the evaluated file (for error messages). */
  path: string[];
  pos?: Pos;
}

export function fieldIsOptional(f: FieldTemplate): boolean {
  return f.pieces.some((p) => p.meta.optional) && !f.pieces.some((p) => p.build);
}

export function fieldNotExported(f: FieldTemplate): boolean {
  return f.pieces.some((p) => p.meta.notExported);
}

export function fieldDoc(f: FieldTemplate): string | undefined {
  for (const p of f.pieces) if (p.meta.doc !== undefined) return p.meta.doc;
  return undefined;
}

// ------------------------------------------------------------------ labels and blame

export interface Label {
  /** The contract's name, e.g. 'Number', 'std.number.PosNat', 'Port'. */
  contractName?: string;
  /** Where the contract was attached. */
  contractPos?: Pos;
  /** Field path of the value being checked. */
  path: string[];
  /** Custom message and notes (std.contract.label.with_message, 'Error { message, notes }). */
  message?: string;
  notes: string[];
  /** 'the value of `f`', 'the caller of `f`'... */
  blamed?: string;
  /** True on the argument side of a function contract. */
  negative?: boolean;
  /** Which part of a type this label checks, e.g. 'expected array element type'. */
  part?: string;
  /** The documentation of the field the contract is attached to. */
  doc?: string;
}

export function childLabel(label: Label, change: Partial<Label>): Label {
  return { ...label, notes: [...label.notes], ...change };
}

/** A short rendering of a value for messages ("10", "\"eu-west\"", "'small", "{ cpu, memory_gb, .. }"). */
export function showValue(v: Value): string {
  switch (v.k) {
    case 'num':
      return v.v.toNickelString();
    case 'str':
      return JSON.stringify(v.v.length > 60 ? `${v.v.slice(0, 57)}...` : v.v);
    case 'bool':
      return String(v.v);
    case 'null':
      return 'null';
    case 'enum':
      return v.arg ? `'${v.tag} ..` : `'${v.tag}`;
    case 'array':
      return v.items.length === 0 ? '[]' : `[ ${v.items.length} element${v.items.length === 1 ? '' : 's'} ]`;
    case 'record': {
      const names = [...v.template.keys()];
      return names.length === 0 ? '{}' : `{ ${names.slice(0, 4).join(', ')}${names.length > 4 ? ', ..' : ''} }`;
    }
    default:
      return `<${typeName(v).toLowerCase()}>`;
  }
}

/**
 * Raises a contract violation. `at` is the checked value (its position, and its rendering when it
 * has been computed) or just a position.
 */
export function blame(label: Label, at?: Pos | Thunk, valueText?: string): never {
  let valuePos: Pos | undefined;
  if (at instanceof Thunk) {
    valuePos = at.pos;
    if (valueText === undefined && at.done) valueText = showValue(at.force());
  } else valuePos = at;
  const title = label.blamed ? `contract broken by ${label.blamed}` : 'contract broken by a value';
  const msg = label.message ? `: ${label.message}` : '';
  const details: NickelErrorDetails = { fieldPath: label.path, notes: label.notes, title: `${title}${msg}` };
  if (label.contractName) details.contract = label.contractName;
  if (label.doc) details.doc = label.doc;
  if (label.contractPos) details.contractSpan = span(label.contractPos);
  if (valuePos) details.span = span(valuePos);
  if (valueText !== undefined) details.value = valueText;
  const path = label.path.length ? ` at ${formatPath(label.path)}` : '';
  const what = label.contractName ? ` (expected ${label.contractName})` : '';
  throw new NickelError('EvalError::BlameError', `${title}${msg}${what}${path}`, details);
}

export function span(p: Pos) {
  return p.src.span(p.start, p.end);
}

import { formatFieldPath as formatPath } from './report.js';

export { formatPath };

export function evalError(kind: string, message: string, pos?: Pos, extra: NickelErrorDetails = {}): never {
  throw new NickelError(kind, message, { ...(pos ? { span: span(pos) } : {}), ...extra });
}

/** Node type names for messages. */
export function typeName(v: Value): string {
  switch (v.k) {
    case 'num':
      return 'Number';
    case 'str':
      return 'String';
    case 'bool':
      return 'Bool';
    case 'null':
      return 'Null';
    case 'enum':
      return 'Enum';
    case 'array':
      return 'Array';
    case 'record':
      return 'Record';
    case 'fn':
    case 'contract':
      return 'Function';
    case 'label':
      return 'Label';
  }
}

/** The text of a value that has one (string, number, bool, null, bare enum tag): interpolation, std.to_string. */
export function textOf(v: Value): string | undefined {
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
      return v.arg ? undefined : v.tag;
  }
  return undefined;
}

/** `std.typeof`: the type names of typeName, and 'Other' for null. */
export function typeTag(v: Value): string {
  return v.k === 'null' ? 'Other' : typeName(v);
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

export type { Node };
