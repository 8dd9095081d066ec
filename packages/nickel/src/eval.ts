import type { Annotation, BinOp, FieldName, Meta, Node, Pattern, Pos, Priority } from './ast.js';
import { emptyMeta } from './ast.js';
import { closestName, type Recovery } from './diagnostics.js';
import { NickelError } from './errors.js';
import { Num } from './number.js';
import {
  blame,
  type ContractValue,
  childLabel,
  Env,
  evalError,
  type FieldTemplate,
  type FnValue,
  fieldIsOptional,
  type Label,
  type PendingContract,
  type Piece,
  type RecordValue,
  span,
  Thunk,
  textOf,
  typeName,
  type Value,
} from './values.js';

/** Imports are resolved by the loader (imports.ts); the evaluator only asks it for a value. */
export interface Loader {
  importValue(path: string, format: string | undefined, from: Pos): Thunk;
}

export const TRUE: Value = { k: 'bool', v: true };
export const FALSE: Value = { k: 'bool', v: false };
export const NULL: Value = { k: 'null' };
export const bool = (b: boolean): Value => (b ? TRUE : FALSE);
export const str = (s: string): Value => ({ k: 'str', v: s });
export const num = (n: Num): Value => ({ k: 'num', v: n });

export function fn(name: string, call: (arg: Thunk) => Value): FnValue {
  return { k: 'fn', name, call };
}

export class Evaluator {
  /** When set, violations that leave the rest of the value usable are recorded here instead of thrown. */
  recover: Recovery | undefined;

  constructor(readonly loader: Loader) {}

  // ------------------------------------------------------------------ terms

  thunk(node: Node, env: Env, path?: string[]): Thunk {
    switch (node.t) {
      case 'num':
        return Thunk.of(num(node.value), node.pos);
      case 'bool':
        return Thunk.of(bool(node.value), node.pos);
      case 'null':
        return Thunk.of(NULL, node.pos);
      case 'var': {
        const t = env.lookup(node.name);
        if (t) return t;
        break;
      }
    }
    return new Thunk(() => this.eval(node, env, path), node.pos);
  }

  /** Evaluates to weak head normal form. `path` names the field being computed (for messages). */
  eval(node: Node, env: Env, path?: string[]): Value {
    switch (node.t) {
      case 'num':
        return num(node.value);
      case 'bool':
        return bool(node.value);
      case 'null':
        return NULL;
      case 'str':
        return str(this.interpolate(node.parts, env));
      case 'var': {
        const t = env.lookup(node.name);
        if (!t)
          return evalError('TypecheckError::UnboundIdentifier', `unbound identifier \`${node.name}\``, node.pos, {
            identifier: node.name,
          });
        return t.force();
      }
      case 'enum':
        return node.arg ? { k: 'enum', tag: node.tag, arg: this.thunk(node.arg, env) } : { k: 'enum', tag: node.tag };
      case 'array':
        return { k: 'array', items: node.items.map((i) => this.thunk(i, env)) };
      case 'record':
        return this.recordLiteral(node, env, path ?? []);
      case 'recordType':
      case 'dictType':
      case 'enumType':
      case 'forall':
        return this.typeContract(node, env);
      case 'let':
        return this.evalLet(node, env, path);
      case 'fun':
        return this.closure(node.param, node.body, env, node.pos);
      case 'app': {
        const f = this.eval(node.fn, env);
        return this.apply(f, this.thunk(node.arg, env), node.pos);
      }
      case 'if': {
        const c = this.eval(node.cond, env);
        if (c.k !== 'bool')
          return this.typeError(`the condition of if must be a Bool, got ${typeName(c)}`, node.cond.pos);
        return this.eval(c.v ? node.then : node.else, env, path);
      }
      case 'match':
        return this.matchFn(node, env);
      case 'bin':
        return this.binary(node.op, node.left, node.right, env, node.pos, path);
      case 'unary': {
        const v = this.eval(node.arg, env);
        if (node.op === '!') {
          if (v.k !== 'bool') return this.primopError('!', 'Bool', v, node.arg.pos, 'EvalError::UnaryPrimopTypeError');
          return bool(!v.v);
        }
        if (v.k !== 'num') return this.primopError('-', 'Number', v, node.arg.pos, 'EvalError::UnaryPrimopTypeError');
        return num(v.v.neg());
      }
      case 'access':
        return this.access(
          this.eval(node.target, env),
          this.fieldName(node.field, env),
          node.pos,
          node.target.pos,
        ).force();
      case 'annot': {
        const value = this.thunk(node.term, env, path);
        return this.applyMeta(node.meta, env, value, path ?? [], node.term.pos).force();
      }
      case 'import':
        return this.loader.importValue(node.path, node.format, node.pos).force();
      case 'primop':
        return this.primop(
          node.name,
          node.args.map((a) => this.thunk(a, env)),
          node.pos,
        );
      case 'section':
        return this.section(node.op, node.pos);
    }
  }

  interpolate(parts: (string | Node)[], env: Env): string {
    let out = '';
    for (const p of parts) {
      if (typeof p === 'string') out += p;
      else out += this.toInterpolated(this.eval(p, env), p.pos);
    }
    return out;
  }

  private toInterpolated(v: Value, pos: Pos): string {
    const text = textOf(v);
    if (text !== undefined) return text;
    return this.typeError(`cannot interpolate a ${typeName(v)} into a string`, pos);
  }

  typeError(message: string, pos?: Pos): never {
    return evalError('EvalError::TypeError', message, pos);
  }

  primopError(
    op: string,
    expected: string,
    got: Value,
    pos: Pos | undefined,
    kind = 'EvalError::NAryPrimopTypeError',
  ): never {
    return evalError(kind, `${op} expected ${expected}, got ${typeName(got)}`, pos);
  }

  fieldName(f: FieldName, env: Env): string {
    if ('static' in f) return f.static;
    const v = this.eval(f.dynamic, env);
    if (v.k !== 'str') return this.typeError(`a field name must be a String, got ${typeName(v)}`, f.pos);
    return v.v;
  }

  // ------------------------------------------------------------------ functions

  closure(param: Pattern, body: Node, env: Env, pos: Pos): FnValue {
    if (param.p === 'bind') {
      const name = param.name;
      return {
        k: 'fn',
        call: (arg) => {
          const e = env.child();
          e.set(name, arg);
          return this.eval(body, e);
        },
      };
    }
    return {
      k: 'fn',
      call: (arg) => {
        const e = env.child();
        if (!this.bindPattern(param, arg, e, env)) {
          return evalError(
            'EvalError::FailedDestructuring',
            'destructuring failed: the argument does not match the pattern',
            pos,
          );
        }
        return this.eval(body, e);
      },
    };
  }

  apply(f: Value, arg: Thunk, pos?: Pos): Value {
    if (f.k === 'fn') return f.call(arg);
    if (f.k === 'contract') {
      return evalError(
        'EvalError::NotAFunc',
        'a contract is not a function: apply it with `|` or std.contract.apply',
        pos,
      );
    }
    return evalError('EvalError::NotAFunc', `this is not a function: it is a ${typeName(f)}`, pos);
  }

  applyN(f: Value, args: Thunk[], pos?: Pos): Value {
    let r = f;
    for (const a of args) r = this.apply(r, a, pos);
    return r;
  }

  private section(op: BinOp | '.', pos: Pos): Value {
    return fn(`(${op})`, (a) =>
      fn(`(${op})`, (b) => {
        if (op === '.') {
          const r = a.force();
          const name = b.force();
          if (name.k !== 'str') return this.typeError('(.) expects a field name', pos);
          return this.access(r, name.v, pos).force();
        }
        return this.binaryValues(op, a, b, pos);
      }),
    );
  }

  // ------------------------------------------------------------------ let and patterns

  private evalLet(node: Extract<Node, { t: 'let' }>, env: Env, path?: string[]): Value {
    const e = env.child();
    const scope = node.rec ? e : env;
    for (const b of node.bindings) {
      let value = this.thunk(b.value, scope);
      if (b.meta.contracts.length > 0) {
        const raw = value;
        value = new Thunk(() => this.applyMeta(b.meta, scope, raw, [], b.value.pos).force(), b.value.pos);
      }
      if (b.pat.p === 'bind') e.set(b.pat.name, value);
      else if (!this.bindPattern(b.pat, value, e, scope)) {
        return evalError(
          'EvalError::FailedDestructuring',
          'destructuring failed: the value does not match the pattern',
          b.pos,
        );
      }
    }
    return this.eval(node.body, e, path);
  }

  /** Binds the variables of `pat` in `target`; false when the value does not match. */
  bindPattern(pat: Pattern, value: Thunk, target: Env, defaultsEnv: Env): boolean {
    switch (pat.p) {
      case 'any':
        return true;
      case 'bind':
        target.set(pat.name, value);
        return true;
      case 'alias':
        target.set(pat.name, value);
        return this.bindPattern(pat.pat, value, target, defaultsEnv);
      case 'const': {
        const v = value.force();
        const c = this.eval(pat.value, defaultsEnv);
        return v.k === c.k && this.equal(v, c, pat.pos);
      }
      case 'enum': {
        const v = value.force();
        if (v.k !== 'enum' || v.tag !== pat.tag) return false;
        if (pat.arg === undefined) return v.arg === undefined;
        if (v.arg === undefined) return false;
        return this.bindPattern(pat.arg, v.arg, target, defaultsEnv);
      }
      case 'array': {
        const v = value.force();
        if (v.k !== 'array') return false;
        if (pat.open ? v.items.length < pat.items.length : v.items.length !== pat.items.length) return false;
        for (let i = 0; i < pat.items.length; i++) {
          if (!this.bindPattern(pat.items[i] as Pattern, v.items[i] as Thunk, target, defaultsEnv)) return false;
        }
        if (pat.rest) target.set(pat.rest, Thunk.of({ k: 'array', items: v.items.slice(pat.items.length) }));
        return true;
      }
      case 'record': {
        const v = value.force();
        if (v.k !== 'record') return false;
        const names = this.fieldNames(v);
        const used = new Set<string>();
        for (const f of pat.fields) {
          used.add(f.name);
          let fieldValue: Thunk;
          const tpl = v.template.get(f.name);
          const defined = tpl?.pieces.some((p) => p.build) ?? false;
          if (defined) fieldValue = this.fieldThunk(v, f.name);
          else if (f.default) fieldValue = this.withDefault(v, f.name, this.thunk(f.default, defaultsEnv));
          else if (names.includes(f.name)) fieldValue = this.fieldThunk(v, f.name);
          else return false;
          if (f.meta.contracts.length > 0) {
            const raw = fieldValue;
            fieldValue = new Thunk(() => this.applyMeta(f.meta, defaultsEnv, raw, [f.name], f.pos).force(), f.pos);
          }
          if (f.pat) {
            if (!this.bindPattern(f.pat, fieldValue, target, defaultsEnv)) return false;
          } else target.set(f.name, fieldValue);
        }
        const extra = names.filter((n) => !used.has(n));
        if (!pat.open && extra.length > 0) return false;
        if (pat.rest) target.set(pat.rest, Thunk.of(this.restrict(v, extra)));
        return true;
      }
      case 'or': {
        for (const alt of pat.alts) {
          const scratch = new Env();
          if (this.bindPattern(alt, value, scratch, defaultsEnv)) {
            return this.bindPattern(alt, value, target, defaultsEnv);
          }
        }
        return false;
      }
    }
  }

  private matchFn(node: Extract<Node, { t: 'match' }>, env: Env): Value {
    return fn('match', (arg) => {
      for (const br of node.branches) {
        const e = env.child();
        if (!this.bindPattern(br.pat, arg, e, env)) continue;
        if (br.guard) {
          const g = this.eval(br.guard, e);
          if (g.k !== 'bool') return this.typeError(`a match guard must be a Bool, got ${typeName(g)}`, br.guard.pos);
          if (!g.v) continue;
        }
        return this.eval(br.body, e);
      }
      return evalError(
        'EvalError::NonExhaustiveMatch',
        'unmatched pattern: no branch of the match applies to this value',
        node.pos,
      );
    });
  }

  // ------------------------------------------------------------------ operators

  private binary(op: BinOp, l: Node, r: Node, env: Env, pos: Pos, path?: string[]): Value {
    if (op === '&&') {
      const a = this.eval(l, env);
      if (a.k !== 'bool') return this.primopError('&&', 'Bool', a, l.pos);
      if (!a.v) return FALSE;
      const b = this.eval(r, env);
      if (b.k !== 'bool') return this.primopError('&&', 'Bool', b, r.pos);
      return b;
    }
    if (op === '||') {
      const a = this.eval(l, env);
      if (a.k !== 'bool') return this.primopError('||', 'Bool', a, l.pos);
      if (a.v) return TRUE;
      const b = this.eval(r, env);
      if (b.k !== 'bool') return this.primopError('||', 'Bool', b, r.pos);
      return b;
    }
    if (op === '|>') return this.apply(this.eval(r, env), this.thunk(l, env), pos);
    if (op === '->') return this.arrowContract(this.thunk(l, env), this.thunk(r, env), pos);
    return this.binaryValues(op, this.thunk(l, env, path), this.thunk(r, env, path), pos);
  }

  binaryValues(op: BinOp, lt: Thunk, rt: Thunk, pos?: Pos): Value {
    if (op === '&') return this.merge(lt, rt, pos);
    if (op === '==') return bool(this.equal(lt.force(), rt.force(), pos));
    if (op === '!=') return bool(!this.equal(lt.force(), rt.force(), pos));
    if (op === '&&' || op === '||') {
      const a = lt.force();
      if (a.k !== 'bool') return this.primopError(op, 'Bool', a, lt.pos);
      if (op === '&&' ? !a.v : a.v) return a;
      const b = rt.force();
      if (b.k !== 'bool') return this.primopError(op, 'Bool', b, rt.pos);
      return b;
    }
    if (op === '|>') return this.apply(rt.force(), lt, pos);
    const a = lt.force();
    const b = rt.force();
    if (op === '++') {
      if (a.k !== 'str') return this.primopError('++', 'String', a, lt.pos);
      if (b.k !== 'str') return this.primopError('++', 'String', b, rt.pos);
      return str(a.v + b.v);
    }
    if (op === '@') {
      if (a.k !== 'array') return this.primopError('@', 'Array', a, lt.pos);
      if (b.k !== 'array') return this.primopError('@', 'Array', b, rt.pos);
      return { k: 'array', items: [...a.items, ...b.items] };
    }
    if (a.k !== 'num') return this.primopError(op, 'Number', a, lt.pos);
    if (b.k !== 'num') return this.primopError(op, 'Number', b, rt.pos);
    switch (op) {
      case '+':
        return num(a.v.add(b.v));
      case '-':
        return num(a.v.sub(b.v));
      case '*':
        return num(a.v.mul(b.v));
      case '/':
        if (b.v.isZero()) return evalError('EvalError::Other', 'division by zero', pos);
        return num(a.v.div(b.v));
      case '%':
        if (b.v.isZero()) return evalError('EvalError::Other', 'division by zero (%)', pos);
        return num(a.v.mod(b.v));
      case '<':
        return bool(a.v.cmp(b.v) < 0);
      case '<=':
        return bool(a.v.cmp(b.v) <= 0);
      case '>':
        return bool(a.v.cmp(b.v) > 0);
      case '>=':
        return bool(a.v.cmp(b.v) >= 0);
    }
    return evalError('EvalError::Other', `unknown operator ${op}`, pos);
  }

  /** Deep structural equality; two functions are incomparable. */
  equal(a: Value, b: Value, pos?: Pos): boolean {
    if (a.k === 'fn' || a.k === 'contract' || b.k === 'fn' || b.k === 'contract') {
      const af = a.k === 'fn' || a.k === 'contract';
      const bf = b.k === 'fn' || b.k === 'contract';
      if (af && bf)
        return evalError(
          'EvalError::IncomparableValues',
          'cannot compare values for equality: both are functions',
          pos,
        );
      return false;
    }
    if (a.k !== b.k) return false;
    switch (a.k) {
      case 'num':
        return a.v.eq((b as { v: Num }).v);
      case 'str':
      case 'bool':
        return a.v === (b as { v: unknown }).v;
      case 'null':
        return true;
      case 'enum': {
        const e = b as typeof a;
        if (a.tag !== e.tag || (a.arg === undefined) !== (e.arg === undefined)) return false;
        return a.arg === undefined || this.equal(a.arg.force(), (e.arg as Thunk).force(), pos);
      }
      case 'array': {
        const e = b as typeof a;
        if (a.items.length !== e.items.length) return false;
        return a.items.every((t, i) => this.equal(t.force(), (e.items[i] as Thunk).force(), pos));
      }
      case 'record': {
        const e = b as RecordValue;
        const an = this.fieldNames(a);
        const bn = this.fieldNames(e);
        if (an.length !== bn.length) return false;
        for (const n of an) {
          if (!bn.includes(n)) return false;
          if (!this.equal(this.fieldThunk(a, n).force(), this.fieldThunk(e, n).force(), pos)) return false;
        }
        return true;
      }
      case 'label':
        return false;
    }
  }

  // ------------------------------------------------------------------ records

  private recordLiteral(node: Extract<Node, { t: 'record' }>, env: Env, path: string[]): RecordValue {
    const template = new Map<string, FieldTemplate>();
    const staticNames = new Set<string>();
    for (const f of node.fields) {
      const first = f.path[0] as FieldName;
      if ('static' in first) staticNames.add(first.static);
    }
    for (const inc of node.includes) staticNames.add(inc.name);
    // The scope of field values: the lexical env plus this literal's static fields, bound to the final record.
    const selfEnvs = new WeakMap<RecordValue, Env>();
    const envFor = (rec: RecordValue): Env => {
      let e = selfEnvs.get(rec);
      if (!e) {
        e = env.child();
        for (const n of staticNames) e.set(n, this.fieldThunk(rec, n));
        selfEnvs.set(rec, e);
      }
      return e;
    };

    const add = (name: string, piece: Piece) => {
      let t = template.get(name);
      if (!t) {
        t = { pieces: [] };
        template.set(name, t);
      }
      t.pieces.push(piece);
    };
    for (const f of node.fields) {
      const names = f.path.map((p) => this.fieldName(p, env));
      const [head, ...rest] = names as [string, ...string[]];
      if (rest.length === 0) {
        const piece: Piece = { meta: f.meta, pos: f.pos, namePos: (f.path[0] as FieldName).pos };
        const value = f.value;
        if (value) piece.build = (rec) => this.thunk(value, envFor(rec), [...path, head]);
        piece.env = env;
        // Contracts see the recursive scope too (e.g. `{ x | T, T = Number }`).
        piece.envFor = envFor;
        add(head, piece);
      } else {
        // `a.b.c = v` is `a = { b = { c = v } }`; the value still sees the outer scope.
        add(head, {
          meta: emptyMeta(),
          pos: f.pos,
          namePos: (f.path[0] as FieldName).pos,
          build: (rec) => Thunk.of(this.nestedRecord(rest, f, envFor(rec), [...path, head]), f.pos),
        });
      }
    }
    for (const inc of node.includes) {
      const t = env.lookup(inc.name);
      if (!t)
        return evalError('TypecheckError::UnboundIdentifier', `unbound identifier \`${inc.name}\``, inc.pos, {
          identifier: inc.name,
        });
      if (template.has(inc.name))
        return evalError('EvalError::Other', `field \`${inc.name}\` is both included and defined`, inc.pos);
      add(inc.name, { meta: inc.meta, pos: inc.pos, env, envFor, build: () => t });
    }
    return makeRecord(template, node.open, path, node.pos);
  }

  private nestedRecord(
    names: string[],
    f: { meta: Meta; value?: Node; pos: Pos; path: FieldName[] },
    scope: Env,
    path: string[],
  ): RecordValue {
    const [head, ...rest] = names as [string, ...string[]];
    const template = new Map<string, FieldTemplate>();
    const namePos = f.path[f.path.length - 1 - rest.length]?.pos;
    if (rest.length === 0) {
      const piece: Piece = { meta: f.meta, pos: f.pos, env: scope, ...(namePos ? { namePos } : {}) };
      const value = f.value;
      if (value) piece.build = () => this.thunk(value, scope, [...path, head]);
      template.set(head, { pieces: [piece] });
    } else {
      template.set(head, {
        pieces: [
          {
            meta: emptyMeta(),
            pos: f.pos,
            ...(namePos ? { namePos } : {}),
            build: () => Thunk.of(this.nestedRecord(rest, f, scope, [...path, head])),
          },
        ],
      });
    }
    return makeRecord(template, false, path, f.pos);
  }

  private missingField(name: string, path: string[], pos?: Pos): never {
    return evalError('EvalError::MissingFieldDef', `missing definition for \`${name}\``, pos, {
      field: name,
      fieldPath: [...path, name],
    });
  }

  /** Names of the fields that exist (optional fields without a value do not). */
  fieldNames(r: RecordValue): string[] {
    const out: string[] = [];
    for (const [name, f] of r.template) if (!fieldIsOptional(f)) out.push(name);
    return out;
  }

  hasField(r: RecordValue, name: string): boolean {
    const f = r.template.get(name);
    return f !== undefined && !fieldIsOptional(f);
  }

  /** The thunk of a field of the record's fixed point. */
  fieldThunk(r: RecordValue, name: string): Thunk {
    let t = r.self.get(name);
    if (t) return t;
    const tpl = r.template.get(name);
    if (!tpl) return evalError('EvalError::FieldMissing', `missing field \`${name}\``, r.pos, { field: name });
    t = new Thunk(() => this.computeField(r, name, tpl).force(), tpl.pieces[0]?.pos);
    r.self.set(name, t);
    return t;
  }

  access(v: Value, name: string, pos?: Pos, targetPos?: Pos): Thunk {
    if (v.k !== 'record') {
      return evalError(
        'EvalError::TypeError',
        `cannot access field \`${name}\`: this is a ${typeName(v)}, not a record`,
        targetPos ?? pos,
      );
    }
    if (!this.hasField(v, name)) {
      const names = this.fieldNames(v);
      const close = names.find((n) => n.toLowerCase() === name.toLowerCase());
      return evalError(
        'EvalError::FieldMissing',
        `missing field \`${name}\`${close ? ` (did you mean \`${close}\`?)` : ''}`,
        pos,
        {
          field: name,
        },
      );
    }
    return this.fieldThunk(v, name);
  }

  /** Priority resolution, merging of equal-priority definitions, then the field's contracts. */
  private computeField(r: RecordValue, name: string, tpl: FieldTemplate): Thunk {
    const defined = tpl.pieces.filter((p) => p.build);
    const fieldPath = [...r.path, name];
    let value: Thunk;
    if (defined.length === 0) {
      value = new Thunk(() => this.missingField(name, r.path, tpl.pieces[0]?.pos ?? r.pos));
    } else {
      let best = Number.NEGATIVE_INFINITY;
      let bestNum: Num | undefined;
      let winners: Piece[] = [];
      for (const p of defined) {
        const rank = priorityRank(p.meta.priority);
        const cmp = rank.level !== best ? rank.level - best : rank.num && bestNum ? rank.num.cmp(bestNum) : 0;
        if (winners.length === 0 || cmp > 0) {
          best = rank.level;
          bestNum = rank.num;
          winners = [p];
        } else if (cmp === 0) winners.push(p);
      }
      const thunks = winners.map((p) => (p.build as (rec: RecordValue) => Thunk)(r));
      value = thunks[0] as Thunk;
      for (let i = 1; i < thunks.length; i++) {
        const a = value;
        const b = thunks[i] as Thunk;
        value = new Thunk(() => this.merge(a, b, winners[i]?.pos), winners[i]?.pos);
      }
    }
    return this.applyPieceContracts(tpl.pieces, r, value, fieldPath);
  }

  private applyPieceContracts(pieces: Piece[], rec: RecordValue, value: Thunk, fieldPath: string[]): Thunk {
    let out = value;
    let seen: Set<Node> | undefined;
    let doc: string | undefined;
    for (const p of pieces) if (p.meta.doc !== undefined) doc ??= p.meta.doc;
    for (const p of pieces) {
      for (const c of p.contracts ?? [])
        out = this.applyContract(c.contract, childLabel(c.label, { path: fieldPath }), out);
      if (p.meta.contracts.length === 0) continue;
      const env = p.envFor ? p.envFor(rec) : (p.env as Env);
      for (const a of p.meta.contracts) {
        // The same annotation reached twice through merges is checked once.
        seen ??= new Set();
        if (seen.has(a.node)) continue;
        seen.add(a.node);
        out = this.applyAnnotation(a, env, out, fieldPath, fieldPath.at(-1), doc);
      }
    }
    return out;
  }

  /** `e | C`, `e : T` and let/field annotations. */
  applyMeta(meta: Meta, env: Env, value: Thunk, path: string[], _valuePos?: Pos): Thunk {
    let out = value;
    for (const a of meta.contracts) out = this.applyAnnotation(a, env, out, path);
    return out;
  }

  private applyAnnotation(a: Annotation, env: Env, value: Thunk, path: string[], field?: string, doc?: string): Thunk {
    const contract = this.thunk(a.node, env);
    const label: Label = {
      contractName: sourceText(a.node.pos),
      contractPos: a.node.pos,
      path,
      notes: [],
      ...(field ? { blamed: `the value of \`${field}\`` } : {}),
      ...(doc ? { doc } : {}),
    };
    return this.applyContract(contract, label, value);
  }

  /** `&`: records merge field by field; equal values merge to themselves; anything else is an error. */
  merge(at: Thunk, bt: Thunk, pos?: Pos): Value {
    const a = at.force();
    const b = bt.force();
    if (a.k === 'record' && b.k === 'record') return mergeRecords(a, b, pos);
    if (a.k === 'array' && b.k === 'array') {
      if (this.equal(a, b, pos)) return a;
      return blame({ notes: ['cannot merge unequal arrays'], path: [], message: 'cannot merge unequal arrays' }, pos);
    }
    if (a.k === 'enum' && b.k === 'enum' && a.tag === b.tag && a.arg && b.arg) {
      const aa = a.arg;
      const ba = b.arg;
      return { k: 'enum', tag: a.tag, arg: new Thunk(() => this.merge(aa, ba, pos)) };
    }
    if (a.k === b.k && a.k !== 'fn' && a.k !== 'contract' && a.k !== 'label' && this.equal(a, b, pos)) return a;
    return evalError(
      'EvalError::MergeIncompatibleArgs',
      `non mergeable terms: a ${typeName(a)} and a ${typeName(b)} with the same priority`,
      pos,
    );
  }

  /** A field without a value, given a pattern's default: the field's own contracts still apply to it. */
  private withDefault(r: RecordValue, name: string, def: Thunk): Thunk {
    const tpl = r.template.get(name);
    if (!tpl) return def;
    const pieces: Piece[] = [
      ...tpl.pieces,
      { meta: { contracts: [], priority: { kind: 'default' } }, build: () => def },
    ];
    return this.fieldThunk(makeRecord(new Map([[name, { pieces }]]), true, r.path, r.pos), name);
  }

  /** A record with only the given fields (frozen: the values are already bound). */
  restrict(r: RecordValue, names: string[]): RecordValue {
    const template = new Map<string, FieldTemplate>();
    for (const n of names) {
      const t = this.fieldThunk(r, n);
      // Freezing keeps the field's merge priority but drops its pending contracts.
      const meta = emptyMeta();
      const priority = winningPriority(r.template.get(n));
      if (priority) meta.priority = priority;
      template.set(n, { pieces: [{ meta, build: () => t }] });
    }
    return makeRecord(template, r.open, r.path, r.pos);
  }

  // ------------------------------------------------------------------ contracts

  /** Applies a contract (any contract-like value) lazily: the check runs when the result is forced. */
  applyContract(contract: Thunk, label: Label, value: Thunk): Thunk {
    return new Thunk(() => {
      const c = contract.force();
      return this.applyContractValue(c, label, value).force();
    }, value.pos);
  }

  applyContractValue(c: Value, label: Label, value: Thunk): Thunk {
    switch (c.k) {
      case 'contract':
        return c.apply(label, value);
      case 'record':
        return this.recordContract(c, label, value);
      case 'fn':
        // A plain `fun label value => ...` used as a contract (deprecated in Nickel, still accepted).
        return new Thunk(() => this.applyN(c, [Thunk.of({ k: 'label', label }), value]), value.pos);
      default:
        return evalError('EvalError::TypeError', `this is not a contract: a ${typeName(c)}`, label.contractPos);
    }
  }

  /** A record used as a contract: the value must be a record; the contract's fields are merged in. */
  recordContract(c: RecordValue, label: Label, value: Thunk): Thunk {
    return new Thunk(() => {
      const v = value.force();
      if (v.k !== 'record')
        return blame(childLabel(label, { message: `expected a record, got a ${typeName(v)}` }), value);
      if (!c.open) {
        const extra = this.fieldNames(v).filter((n) => !c.template.has(n));
        if (extra.length > 0) {
          const known = [...c.template.keys()];
          const errors = extra.map((n) => this.extraField(label, v, n, known, value.pos));
          // Recovering: each extra field is one error, and the record is still checked field by field.
          if (!this.recover) throw errors[0];
          for (const e of errors) this.recover.add(e);
        }
      }
      return mergeRecords(v, c, label.contractPos, label.path);
    }, value.pos);
  }

  /** The blame error of a field the record contract does not have: at the field's name, with the nearest known name. */
  private extraField(label: Label, v: RecordValue, name: string, known: string[], fallback?: Pos): NickelError {
    const close = closestName(name, known);
    const at = v.template.get(name)?.pieces.find((p) => p.namePos)?.namePos ?? fallback;
    try {
      return blame(
        childLabel(label, {
          message: `extra field \`${name}\`${close ? ` (did you mean \`${close}\`?)` : ''}`,
          path: [...label.path, name],
          // The fields it has, rather than the source of a long record literal.
          ...(!label.contractName || label.contractName.startsWith('{')
            ? { contractName: `{ ${known.slice(0, 8).join(', ')}${known.length > 8 ? ', ..' : ''} }` }
            : {}),
        }),
        at,
      );
    } catch (e) {
      if (e instanceof NickelError) return e;
      throw e;
    }
  }

  /** Types in term position: record types, dictionaries, enum types, forall (erased). */
  typeContract(node: Node, env: Env): Value {
    switch (node.t) {
      case 'forall': {
        const e = env.child();
        for (const v of node.vars) e.set(v, Thunk.of(DYN));
        return this.eval(node.body, e);
      }
      case 'dictType': {
        const elem = this.thunk(node.value, env);
        return this.dictContract(elem, sourceText(node.pos), node.isType);
      }
      case 'enumType': {
        const rows = node.rows.map((r) => ({ tag: r.tag, arg: r.arg ? this.thunk(r.arg, env) : undefined }));
        return this.enumContract(rows, node.open, sourceText(node.pos));
      }
      case 'recordType': {
        const fields = node.fields.map((f) => ({
          name: f.name,
          type: this.thunk(f.type, env),
          optional: f.optional,
          pos: f.pos,
        }));
        return this.recordTypeContract(fields, node.open, sourceText(node.pos));
      }
    }
    return evalError('EvalError::Other', 'not a type', node.pos);
  }

  /**
   * `{ _ | C }` leaves C pending on every field, so it follows the record through later merges;
   * the type `{ _ : T }` checks the fields as they are and does not propagate.
   */
  dictContract(elem: Thunk, name: string, isType = false): ContractValue {
    return {
      k: 'contract',
      name,
      apply: (label, value) =>
        new Thunk(() => {
          const v = value.force();
          if (v.k !== 'record')
            return blame(childLabel(label, { message: `expected a record, got a ${typeName(v)}` }), value);
          if (isType) {
            const checkedFields = new Map<string, FieldTemplate>();
            for (const n of this.fieldNames(v)) {
              const fieldLabel = childLabel(label, {
                part: 'expected dictionary field type',
                blamed: `the value of \`${n}\``,
                path: [...label.path, n],
              });
              const checked = this.applyContract(elem, fieldLabel, this.fieldThunk(v, n));
              checkedFields.set(n, { pieces: [{ meta: emptyMeta(), build: () => checked }] });
            }
            return makeRecord(checkedFields, v.open, v.path, v.pos);
          }
          const template = new Map<string, FieldTemplate>();
          for (const [n, f] of v.template) {
            const pending: PendingContract = {
              contract: elem,
              label: childLabel(label, { part: 'expected dictionary field type', blamed: `the value of \`${n}\`` }),
            };
            template.set(n, { pieces: [...f.pieces, { meta: emptyMeta(), contracts: [pending] }] });
          }
          return makeRecord(template, v.open, v.path, v.pos);
        }, value.pos),
    };
  }

  enumContract(rows: { tag: string; arg: Thunk | undefined }[], open: boolean, name: string): ContractValue {
    return {
      k: 'contract',
      name,
      apply: (label, value) =>
        new Thunk(() => {
          const v = value.force();
          if (v.k !== 'enum')
            return blame(childLabel(label, { message: `expected an enum tag, got a ${typeName(v)}` }), value);
          const row = rows.find((r) => r.tag === v.tag && (r.arg !== undefined) === (v.arg !== undefined));
          if (!row) {
            if (open) return v;
            return blame(childLabel(label, { message: `tag \`'${v.tag}\` is not in the enum type` }), value);
          }
          if (row.arg && v.arg) return { k: 'enum', tag: v.tag, arg: this.applyContract(row.arg, label, v.arg) };
          return v;
        }, value.pos),
    };
  }

  recordTypeContract(
    fields: { name: string; type: Thunk; optional: boolean; pos: Pos }[],
    open: boolean,
    name: string,
  ): ContractValue {
    return {
      k: 'contract',
      name,
      apply: (label, value) =>
        new Thunk(() => {
          const v = value.force();
          if (v.k !== 'record')
            return blame(childLabel(label, { message: `expected a record, got a ${typeName(v)}` }), value);
          const names = this.fieldNames(v);
          for (const f of fields) {
            if (!f.optional && !names.includes(f.name)) {
              return blame(childLabel(label, { message: `missing field \`${f.name}\`` }), value);
            }
          }
          if (!open) {
            const extra = names.filter((n) => !fields.some((f) => f.name === n));
            if (extra.length > 0) {
              const known = fields.map((f) => f.name);
              const errors = extra.map((n) => this.extraField(label, v, n, known, value.pos));
              if (!this.recover) throw errors[0];
              for (const e of errors) this.recover.add(e);
            }
          }
          const template = new Map<string, FieldTemplate>();
          for (const [n, f] of v.template) {
            const ty = fields.find((x) => x.name === n);
            if (!ty) {
              template.set(n, f);
              continue;
            }
            const pending: PendingContract = {
              contract: ty.type,
              label: childLabel(label, { part: 'expected field type', blamed: `the value of \`${n}\`` }),
            };
            template.set(n, { pieces: [...f.pieces, { meta: emptyMeta(), contracts: [pending] }] });
          }
          return makeRecord(template, v.open, v.path, v.pos);
        }, value.pos),
    };
  }

  arrowContract(dom: Thunk, codom: Thunk, pos: Pos): ContractValue {
    return {
      k: 'contract',
      name: sourceText(pos),
      apply: (label, value) =>
        new Thunk(() => {
          const f = value.force();
          if (f.k !== 'fn')
            return blame(childLabel(label, { message: `expected a function, got a ${typeName(f)}` }), value);
          const fname = f.name;
          return {
            k: 'fn',
            ...(fname ? { name: fname } : {}),
            call: (arg) => {
              const argLabel = childLabel(label, {
                negative: !label.negative,
                part: 'expected type of the argument provided by the caller',
                blamed: fname ? `the caller of \`${fname}\`` : 'the caller',
              });
              const checkedArg = this.applyContract(dom, argLabel, arg);
              const retLabel = childLabel(label, {
                part: 'expected return type',
                blamed: fname ? `the function \`${fname}\`` : label.blamed,
              });
              return this.applyContract(codom, retLabel, new Thunk(() => f.call(checkedArg))).force();
            },
          };
        }, value.pos),
    };
  }

  // ------------------------------------------------------------------ deep evaluation

  /** Forces everything (export, `full` mode, std.deep_seq). */
  deepForce(v: Value, path: string[] = []): void {
    const stack: { v: Value; path: string[] }[] = [{ v, path }];
    while (stack.length > 0) {
      const { v: cur, path: p } = stack.pop() as { v: Value; path: string[] };
      if (cur.k === 'array') {
        cur.items.forEach((t, i) => {
          stack.push({ v: this.forceAt(t, [...p, `[${i}]`]), path: [...p, `[${i}]`] });
        });
      } else if (cur.k === 'record') {
        for (const n of this.fieldNames(cur)) {
          stack.push({ v: this.forceAt(this.fieldThunk(cur, n), [...p, n]), path: [...p, n] });
        }
      } else if (cur.k === 'enum' && cur.arg) {
        stack.push({ v: this.forceAt(cur.arg, p), path: p });
      }
    }
  }

  /** Forces a thunk, adding `path` to an error that has no field path yet. */
  forceAt(t: Thunk, path: string[]): Value {
    try {
      return t.force();
    } catch (e) {
      if (e instanceof NickelError && e.fieldPath.length === 0 && path.length > 0) {
        (e as { fieldPath: string[] }).fieldPath = [...path];
      }
      throw e;
    }
  }

  // ------------------------------------------------------------------ primops (test support)

  primopTable?: Record<string, (args: Thunk[], pos: Pos) => Value>;

  private primop(name: string, args: Thunk[], pos: Pos): Value {
    const impl = this.primopTable?.[name];
    if (!impl) return evalError('ParseError', `unknown primitive operation %${name}%`, pos);
    return impl(args, pos);
  }
}

export const DYN: ContractValue = { k: 'contract', name: 'Dyn', apply: (_l, v) => v };

/** The priority of a field's winning definition (undefined: the normal priority 0). */
function winningPriority(tpl: FieldTemplate | undefined): Priority | undefined {
  let best: { p: Priority | undefined; rank: { level: number; num?: Num } } | undefined;
  for (const p of tpl?.pieces ?? []) {
    if (!p.build) continue;
    const a = priorityRank(p.meta.priority);
    if (
      !best ||
      a.level > best.rank.level ||
      (a.level === best.rank.level && a.num && best.rank.num && a.num.cmp(best.rank.num) > 0)
    ) {
      best = { p: p.meta.priority, rank: a };
    }
  }
  return best?.p;
}

/** Ordering of merge priorities: default < numeric (by value) < force. */
function priorityRank(p: Priority | undefined): { level: number; num?: Num } {
  if (!p) return { level: 1, num: Num.ZERO };
  if (p.kind === 'default') return { level: 0 };
  if (p.kind === 'force') return { level: 2 };
  return { level: 1, num: p.value };
}

export function makeRecord(
  template: Map<string, FieldTemplate>,
  open: boolean,
  path: string[],
  pos?: Pos,
): RecordValue {
  const r: RecordValue = { k: 'record', template, self: new Map(), open, path };
  if (pos) r.pos = pos;
  return r;
}

/** A frozen record from a plain map of thunks (std results and modules, deserialized data). */
export function frozen(fields: Map<string, Thunk> | Record<string, Thunk>, path: string[] = []): RecordValue {
  const entries = fields instanceof Map ? [...fields] : Object.entries(fields);
  const template = new Map<string, FieldTemplate>();
  for (const [n, t] of entries) template.set(n, { pieces: [{ meta: emptyMeta(), build: () => t }] });
  return makeRecord(template, true, path);
}

/** Merges two records: the pieces of common fields accumulate; a new fixed point is taken. */
export function mergeRecords(a: RecordValue, b: RecordValue, pos?: Pos, path?: string[]): RecordValue {
  const template = new Map<string, FieldTemplate>();
  for (const [n, f] of a.template) template.set(n, { pieces: [...f.pieces] });
  for (const [n, f] of b.template) {
    const t = template.get(n);
    if (t) t.pieces.push(...f.pieces);
    else template.set(n, { pieces: [...f.pieces] });
  }
  return makeRecord(template, a.open && b.open, path ?? (a.path.length ? a.path : b.path), pos ?? a.pos);
}

const sourceTexts = new WeakMap<Pos, string>();

const oneLine = (text: string, start: number, end: number) => text.slice(start, end).replace(/\s+/g, ' ').trim();

/** The source of a node on one line (contract names in messages); computed once per node. */
export function sourceText(pos: Pos): string {
  let t = sourceTexts.get(pos);
  if (t === undefined) {
    t = oneLine(pos.src.text, pos.start, Math.min(pos.end, pos.start + 400));
    // A long node (a whole record type) needs only its start, unless that start is mostly blanks.
    if (t.length <= 80 && pos.end > pos.start + 400) t = oneLine(pos.src.text, pos.start, pos.end);
    if (t.length > 80) t = `${t.slice(0, 77)}...`;
    sourceTexts.set(pos, t);
  }
  return t;
}

export { span };
