import type { Num } from './number.js';
import type { Source } from './source.js';

/** Source position of a node: offsets into `src`. */
export interface Pos {
  src: Source;
  start: number;
  end: number;
}

export type BinOp =
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '++'
  | '@'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '&&'
  | '||'
  | '&'
  | '|>'
  | '->';

/** Metadata of a field or a let binding: contracts/types, merge priority, doc... */
export interface Meta {
  contracts: Annotation[];
  priority?: Priority;
  optional?: boolean;
  notExported?: boolean;
  doc?: string;
}
export interface Annotation {
  node: Node;
  /** `: T` (a type) rather than `| C` (a contract): both are enforced as contracts. */
  isType: boolean;
}
export type Priority = { kind: 'default' } | { kind: 'force' } | { kind: 'num'; value: Num };

export type FieldName = { static: string; pos: Pos } | { dynamic: Node; pos: Pos };

export interface FieldDef {
  path: FieldName[];
  meta: Meta;
  value?: Node;
  pos: Pos;
}

export type Node =
  | { t: 'num'; value: Num; pos: Pos }
  | { t: 'str'; parts: (string | Node)[]; pos: Pos }
  | { t: 'bool'; value: boolean; pos: Pos }
  | { t: 'null'; pos: Pos }
  | { t: 'var'; name: string; pos: Pos }
  | { t: 'enum'; tag: string; arg?: Node; pos: Pos }
  | { t: 'record'; fields: FieldDef[]; includes: { name: string; meta: Meta; pos: Pos }[]; open: boolean; pos: Pos }
  /** `{ a : T, b : U }`: a record literal with only typed, undefined fields (a closed record type). */
  | { t: 'recordType'; fields: { name: string; type: Node; optional: boolean; pos: Pos }[]; open: boolean; pos: Pos }
  | { t: 'dictType'; value: Node; isType: boolean; pos: Pos }
  | { t: 'enumType'; rows: { tag: string; arg?: Node }[]; open: boolean; pos: Pos }
  | { t: 'forall'; vars: string[]; body: Node; pos: Pos }
  | { t: 'array'; items: Node[]; pos: Pos }
  | { t: 'let'; rec: boolean; bindings: LetBinding[]; body: Node; pos: Pos }
  | { t: 'fun'; param: Pattern; body: Node; pos: Pos }
  | { t: 'app'; fn: Node; arg: Node; pos: Pos }
  | { t: 'if'; cond: Node; then: Node; else: Node; pos: Pos }
  | { t: 'match'; branches: MatchBranch[]; pos: Pos }
  | { t: 'bin'; op: BinOp; left: Node; right: Node; pos: Pos }
  | { t: 'unary'; op: '-' | '!'; arg: Node; pos: Pos }
  | { t: 'access'; target: Node; field: FieldName; pos: Pos }
  | { t: 'annot'; term: Node; meta: Meta; pos: Pos }
  | { t: 'import'; path: string; format?: string; pos: Pos }
  | { t: 'primop'; name: string; args: Node[]; pos: Pos }
  /** `(+)`, `(==)`, `(.)`...: an operator as a function. */
  | { t: 'section'; op: BinOp | '.'; pos: Pos };

export interface LetBinding {
  pat: Pattern;
  meta: Meta;
  value: Node;
  pos: Pos;
}

export interface MatchBranch {
  pat: Pattern;
  guard?: Node;
  body: Node;
  pos: Pos;
}

export interface RecordPatternField {
  name: string;
  pat?: Pattern;
  default?: Node;
  meta: Meta;
  pos: Pos;
}

export type Pattern =
  | { p: 'bind'; name: string; pos: Pos }
  | { p: 'any'; pos: Pos }
  | { p: 'const'; value: Node; pos: Pos }
  | { p: 'record'; fields: RecordPatternField[]; rest?: string; open: boolean; pos: Pos }
  | { p: 'enum'; tag: string; arg?: Pattern; pos: Pos }
  | { p: 'array'; items: Pattern[]; rest?: string; open: boolean; pos: Pos }
  | { p: 'alias'; name: string; pat: Pattern; pos: Pos }
  | { p: 'or'; alts: Pattern[]; pos: Pos };

export function emptyMeta(): Meta {
  return { contracts: [] };
}

/** The variables a pattern binds, in order. */
export function patternVars(p: Pattern, out: string[] = []): string[] {
  switch (p.p) {
    case 'bind':
      out.push(p.name);
      break;
    case 'record':
      for (const f of p.fields) {
        if (f.pat) patternVars(f.pat, out);
        else out.push(f.name);
      }
      if (p.rest) out.push(p.rest);
      break;
    case 'enum':
      if (p.arg) patternVars(p.arg, out);
      break;
    case 'array':
      for (const i of p.items) patternVars(i, out);
      if (p.rest) out.push(p.rest);
      break;
    case 'alias':
      out.push(p.name);
      patternVars(p.pat, out);
      break;
    case 'or':
      if (p.alts[0]) patternVars(p.alts[0], out);
      break;
  }
  return out;
}
