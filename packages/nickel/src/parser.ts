import {
  type Annotation,
  type BinOp,
  emptyMeta,
  type FieldDef,
  type FieldName,
  type LetBinding,
  type MatchBranch,
  type Meta,
  type Node,
  type Pattern,
  type Pos,
  type RecordPatternField,
} from './ast.js';
import { NickelError } from './errors.js';
import { type Token, tokenize } from './lexer.js';
import { Num } from './number.js';
import type { Source } from './source.js';

const KEYWORDS = new Set([
  'let',
  'in',
  'rec',
  'fun',
  'if',
  'then',
  'else',
  'match',
  'import',
  'true',
  'false',
  'null',
  'forall',
]);

/** Binding powers of the infix operators (higher binds tighter) and their associativity. */
const INFIX: Record<string, [number, 'left' | 'right']> = {
  '->': [1, 'right'],
  '||': [2, 'left'],
  '&&': [3, 'left'],
  '==': [4, 'left'],
  '!=': [4, 'left'],
  '<': [5, 'left'],
  '<=': [5, 'left'],
  '>': [5, 'left'],
  '>=': [5, 'left'],
  '&': [6, 'left'],
  '|>': [6, 'left'],
  '+': [8, 'left'],
  '-': [8, 'left'],
  '*': [9, 'left'],
  '/': [9, 'left'],
  '%': [9, 'left'],
  '++': [10, 'right'],
  '@': [10, 'right'],
};
const BP_NOT = 7; // prefix `!` binds looser than arithmetic, tighter than `&`
const BP_NEG = 11; // prefix `-` binds looser than application
/** Arity of the test-support primops: `%force% x y` is `(%force% x) y`. */
const PRIMOP_ARITY: Record<string, number> = {
  blame: 1,
  deep_seq: 2,
  seq: 2,
  force: 1,
  typeof: 1,
  'record/has_field': 2,
  'record/fields': 1,
  'record/insert': 3,
  'record/remove': 2,
  'record/freeze': 1,
  'array/at': 2,
  'array/length': 1,
  'array/map': 2,
  'array/slice': 3,
  serialize: 2,
  deserialize: 2,
};
const SECTION_OPS = new Set([...Object.keys(INFIX).filter((o) => o !== '->'), '.']);

/** Deepest nesting accepted: deeper input is refused with a clear error instead of a stack overflow. */
const MAX_DEPTH = 600;

export function parse(src: Source): Node {
  return new Parser(src).parseProgram();
}

class Parser {
  private toks: Token[];
  private i = 0;
  private depth = 0;

  constructor(private src: Source) {
    this.toks = tokenize(src);
  }

  // ---------------------------------------------------------------- tokens

  private peek(k = 0): Token {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)] as Token;
  }
  private next(): Token {
    const t = this.peek();
    if (this.i < this.toks.length - 1) this.i++;
    return t;
  }
  private isPunct(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.value === v;
  }
  private isIdent(v: string, k = 0): boolean {
    const t = this.peek(k);
    return t.kind === 'ident' && t.value === v;
  }
  private eatPunct(v: string): boolean {
    if (this.isPunct(v)) {
      this.next();
      return true;
    }
    return false;
  }
  private expectPunct(v: string, what?: string): Token {
    if (!this.isPunct(v)) this.unexpected(what ?? `'${v}'`);
    return this.next();
  }
  private expectKeyword(v: string): Token {
    if (!this.isIdent(v)) this.unexpected(`'${v}'`);
    return this.next();
  }
  private pos(start: number, end = this.toks[this.i - 1]?.end ?? start): Pos {
    return { src: this.src, start, end };
  }
  private describe(t: Token): string {
    switch (t.kind) {
      case 'eof':
        return 'end of file';
      case 'str-start':
        return 'a string';
      case 'number':
        return `number ${t.value}`;
      case 'enum':
        return `'${t.value}`;
      default:
        return `'${t.value}'`;
    }
  }
  private unexpected(expected: string): never {
    const t = this.peek();
    throw new NickelError('ParseError', `unexpected token: found ${this.describe(t)}, expected ${expected}`, {
      span: this.src.span(t.start, t.end),
    });
  }
  private error(
    msg: string,
    start: number,
    end: number,
    kind = 'ParseError',
    extra: Record<string, string> = {},
  ): never {
    throw new NickelError(kind, msg, { span: this.src.span(start, end), ...extra });
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) {
      const t = this.peek();
      this.error(`nesting deeper than ${MAX_DEPTH} levels`, t.start, t.end);
    }
  }

  // ---------------------------------------------------------------- terms

  parseProgram(): Node {
    const t = this.parseTerm();
    if (this.peek().kind !== 'eof') this.unexpected('end of file');
    return t;
  }

  /** A full term: let/fun/if, or an infix expression with optional `| C` / `: T` annotations. */
  parseTerm(): Node {
    this.enter();
    try {
      const t = this.peek();
      if (t.kind === 'ident') {
        if (t.value === 'let') return this.parseLet();
        if (t.value === 'fun') return this.parseFun();
        if (t.value === 'if') return this.parseIf();
      }
      const start = t.start;
      const term = this.parseInfix(0);
      if (this.isPunct('|') || this.isPunct(':')) {
        const meta = this.parseAnnotations(false);
        return { t: 'annot', term, meta, pos: this.pos(start) };
      }
      return term;
    } finally {
      this.depth--;
    }
  }

  /** A type or contract after `:` or `|`: `forall a. T`, or an expression (arrows included). */
  private parseType(): Node {
    if (this.isIdent('forall')) {
      const start = this.next().start;
      const vars: string[] = [];
      while (this.peek().kind === 'ident' && !this.isPunct('.')) vars.push(this.next().value);
      if (vars.length === 0) this.unexpected('a type variable');
      this.expectPunct('.');
      const body = this.parseType();
      return { t: 'forall', vars, body, pos: this.pos(start) };
    }
    return this.parseInfix(0);
  }

  private parseInfix(minBp: number): Node {
    this.enter();
    try {
      const start = this.peek().start;
      let left = this.parsePrefix();
      for (;;) {
        const t = this.peek();
        if (t.kind !== 'punct') break;
        const info = INFIX[t.value];
        if (!info) break;
        const [bp, assoc] = info;
        if (bp < minBp) break;
        this.next();
        const right = this.parseOperand(assoc === 'left' ? bp + 1 : bp);
        left = { t: 'bin', op: t.value as BinOp, left, right, pos: this.pos(start) };
      }
      return left;
    } finally {
      this.depth--;
    }
  }

  /** An operand: let/fun/if extend as far right as possible, anything else is an infix expression. */
  private parseOperand(minBp: number): Node {
    const t = this.peek();
    if (t.kind === 'ident' && (t.value === 'let' || t.value === 'fun' || t.value === 'if')) return this.parseTerm();
    return this.parseInfix(minBp);
  }

  private parsePrefix(): Node {
    const t = this.peek();
    if (t.kind === 'punct' && t.value === '-') {
      this.next();
      const arg = this.parseOperand(BP_NEG);
      // A literal keeps its sign (and its exactness): -6.8 is a number, not 0 - 6.8.
      if (arg.t === 'num' && arg.pos.start === t.end)
        return { t: 'num', value: arg.value.neg(), pos: this.pos(t.start) };
      return { t: 'unary', op: '-', arg, pos: this.pos(t.start) };
    }
    if (t.kind === 'punct' && t.value === '!') {
      this.next();
      const arg = this.parseOperand(BP_NOT);
      return { t: 'unary', op: '!', arg, pos: this.pos(t.start) };
    }
    return this.parseApplication();
  }

  /** Juxtaposition: `f x y`, `'Tag arg`, `%primop% a b`, `import "f"`. */
  private parseApplication(): Node {
    const t = this.peek();
    const start = t.start;
    if (t.kind === 'primop') {
      this.next();
      const arity = PRIMOP_ARITY[t.value];
      if (arity === undefined) this.error(`unknown primitive operation %${t.value}%`, t.start, t.end);
      const args: Node[] = [];
      while (args.length < (arity as number) && this.startsAtom()) args.push(this.parseAccess());
      return this.applyMore({ t: 'primop', name: t.value, args, pos: this.pos(start) }, start);
    }
    if (t.kind === 'ident' && t.value === 'import') return this.parseImport();
    if (t.kind === 'enum') {
      this.next();
      const tagNode: Node = { t: 'enum', tag: t.value, pos: this.pos(start) };
      // `'Foo x` is a variant; `'Foo.x` never happens; a tag followed by an atom takes it as argument.
      if (this.startsAtom()) {
        const arg = this.parseAccess();
        const variant: Node = { t: 'enum', tag: t.value, arg, pos: this.pos(start) };
        return this.applyMore(variant, start);
      }
      return this.applyMore(tagNode, start);
    }
    const head = this.parseAccess();
    return this.applyMore(head, start);
  }

  private applyMore(head: Node, start: number): Node {
    let fn = head;
    while (this.startsAtom()) {
      const arg = this.parseAccess();
      fn = { t: 'app', fn, arg, pos: this.pos(start) };
    }
    return fn;
  }

  private startsAtom(): boolean {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
      case 'str-start':
      case 'enum':
        return true;
      case 'ident':
        return !KEYWORDS.has(t.value) || ['true', 'false', 'null', 'match'].includes(t.value);
      case 'punct':
        return t.value === '(' || t.value === '[' || t.value === '{' || t.value === '[|';
      default:
        return false;
    }
  }

  /** An atom followed by field accesses `.a`, `."b c"`, `."%{k}"`. */
  private parseAccess(): Node {
    const start = this.peek().start;
    let target = this.parseAtom();
    while (this.isPunct('.')) {
      this.next();
      const field = this.parseFieldName();
      target = { t: 'access', target, field, pos: this.pos(start) };
    }
    return target;
  }

  private parseFieldName(): FieldName {
    const t = this.peek();
    if (t.kind === 'ident') {
      this.next();
      return { static: t.value, pos: this.pos(t.start) };
    }
    if (t.kind === 'str-start' && t.value === '') {
      const s = this.parseString();
      if (s.t === 'str' && s.parts.every((p) => typeof p === 'string')) {
        return { static: (s.parts as string[]).join(''), pos: s.pos };
      }
      return { dynamic: s, pos: s.pos };
    }
    return this.unexpected('a field name');
  }

  private parseAtom(): Node {
    const t = this.peek();
    const start = t.start;
    switch (t.kind) {
      case 'number':
        this.next();
        return { t: 'num', value: Num.parseLiteral(t.value), pos: this.pos(start) };
      case 'str-start':
        return this.parseString();
      case 'enum':
        this.next();
        return { t: 'enum', tag: t.value, pos: this.pos(start) };
      case 'ident': {
        if (t.value === 'true' || t.value === 'false') {
          this.next();
          return { t: 'bool', value: t.value === 'true', pos: this.pos(start) };
        }
        if (t.value === 'null') {
          this.next();
          return { t: 'null', pos: this.pos(start) };
        }
        if (t.value === 'match') return this.parseMatch();
        if (KEYWORDS.has(t.value)) return this.unexpected('an expression');
        this.next();
        return { t: 'var', name: t.value, pos: this.pos(start) };
      }
      case 'punct':
        if (t.value === '(') return this.parseParen();
        if (t.value === '[') return this.parseArray();
        if (t.value === '{') return this.parseRecord();
        if (t.value === '[|') return this.parseEnumType();
        break;
    }
    return this.unexpected('an expression');
  }

  private parseParen(): Node {
    const start = this.next().start;
    const t = this.peek();
    // Operator sections: (+), (==), (.), (@)...
    if (t.kind === 'punct' && SECTION_OPS.has(t.value) && this.isPunct(')', 1)) {
      this.next();
      this.next();
      return { t: 'section', op: t.value as BinOp | '.', pos: this.pos(start) };
    }
    const inner = this.parseTerm();
    this.expectPunct(')');
    return inner;
  }

  private parseArray(): Node {
    const start = this.next().start;
    const items: Node[] = [];
    while (!this.isPunct(']')) {
      items.push(this.parseTerm());
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct(']', "',' or ']'");
    return { t: 'array', items, pos: this.pos(start) };
  }

  private parseEnumType(): Node {
    const start = this.next().start;
    const rows: { tag: string; arg?: Node }[] = [];
    let open = false;
    while (!this.isPunct('|]')) {
      if (this.peek().kind === 'enum') {
        const tag = this.next().value;
        const arg = this.startsAtom() ? this.parseAccess() : undefined;
        rows.push(arg ? { tag, arg } : { tag });
      } else if (this.isPunct(';')) {
        this.next();
        if (this.peek().kind === 'ident') this.next(); // row tail variable: erased
        open = true;
        break;
      } else this.unexpected("an enum tag such as 'foo");
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct('|]', "',' or '|]'");
    return { t: 'enumType', rows, open, pos: this.pos(start) };
  }

  private parseString(): Node {
    const open = this.next();
    const start = open.start;
    const multiline = open.value !== '';
    const parts: (string | Node)[] = [];
    const lineStarts = new Set<number>(); // indices in `parts` that begin a line (multiline only)
    for (;;) {
      const t = this.peek();
      if (t.kind === 'str-end') {
        this.next();
        break;
      }
      if (t.kind === 'str-chunk') {
        this.next();
        if (t.multiline) lineStarts.add(parts.length);
        parts.push(t.value);
        continue;
      }
      if (t.kind === 'interp-start') {
        this.next();
        const e = this.parseTerm();
        if (this.peek().kind !== 'interp-end') this.unexpected("'}' to close the interpolation");
        this.next();
        parts.push(e);
        continue;
      }
      return this.unexpected('the end of the string');
    }
    return { t: 'str', parts: multiline ? dedent(parts) : mergeText(parts), pos: this.pos(start) };
  }

  // ---------------------------------------------------------------- records

  private parseRecord(): Node {
    const start = this.next().start;
    const fields: FieldDef[] = [];
    const includes: { name: string; meta: Meta; pos: Pos }[] = [];
    let open = false;
    // Dictionary types: { _ : T } and { _ | C }
    if (this.isIdent('_') && (this.isPunct(':', 1) || this.isPunct('|', 1))) {
      this.next();
      const isType = this.next().value === ':';
      const value = this.parseType();
      this.expectPunct('}');
      return { t: 'dictType', value, isType, pos: this.pos(start) };
    }
    while (!this.isPunct('}')) {
      if (this.isPunct('..')) {
        this.next();
        open = true;
        this.eatPunct(',');
        break;
      }
      if (this.isIdent('include') && (this.peek(1).kind === 'ident' || this.isPunct('[', 1))) {
        this.next();
        if (this.eatPunct('[')) {
          while (!this.isPunct(']')) {
            includes.push(this.parseInclude());
            if (!this.eatPunct(',')) break;
          }
          this.expectPunct(']');
        } else includes.push(this.parseInclude());
      } else fields.push(this.parseFieldDef());
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct('}', "',' or '}'");
    const pos = this.pos(start);
    const asType = recordType(fields, includes.length, open, pos);
    if (asType) return asType;
    for (const f of fields) {
      if (f.value === undefined && f.path.length > 1 && f.meta.contracts.some((c) => c.isType)) {
        this.error(
          'a typed field path without a definition',
          f.pos.start,
          f.pos.end,
          'ParseError::TypedFieldWithoutDefinition',
        );
      }
    }
    return { t: 'record', fields, includes, open, pos };
  }

  private parseInclude(): { name: string; meta: Meta; pos: Pos } {
    const t = this.peek();
    if (t.kind !== 'ident' || KEYWORDS.has(t.value)) this.unexpected('a variable to include');
    this.next();
    const meta = this.isPunct('|') || this.isPunct(':') ? this.parseAnnotations(true) : emptyMeta();
    return { name: t.value, meta, pos: this.pos(t.start) };
  }

  private parseFieldDef(): FieldDef {
    const start = this.peek().start;
    const path: FieldName[] = [this.parseFieldName()];
    while (this.eatPunct('.')) path.push(this.parseFieldName());
    const meta = this.isPunct('|') || this.isPunct(':') ? this.parseAnnotations(true) : emptyMeta();
    let value: Node | undefined;
    if (this.eatPunct('=')) value = this.parseTerm();
    return value ? { path, meta, value, pos: this.pos(start) } : { path, meta, pos: this.pos(start) };
  }

  /**
   * `| C`, `: T`, and (for fields and let bindings) `| default`, `| force`, `| priority n`,
   * `| optional`, `| not_exported`, `| doc "..."`, in any order.
   */
  private parseAnnotations(fieldLike: boolean): Meta {
    const meta = emptyMeta();
    for (;;) {
      if (this.isPunct(':')) {
        this.next();
        meta.contracts.push({ node: this.parseType(), isType: true } satisfies Annotation);
        continue;
      }
      if (!this.isPunct('|')) break;
      this.next();
      const t = this.peek();
      if (fieldLike && t.kind === 'ident') {
        const after = this.peek(1);
        const endsMeta = !(after.kind === 'punct' && after.value === '.');
        if (t.value === 'default' && endsMeta) {
          this.next();
          meta.priority = { kind: 'default' };
          continue;
        }
        if (t.value === 'force' && endsMeta) {
          this.next();
          meta.priority = { kind: 'force' };
          continue;
        }
        if (t.value === 'optional' && endsMeta) {
          this.next();
          meta.optional = true;
          continue;
        }
        if (t.value === 'not_exported' && endsMeta) {
          this.next();
          meta.notExported = true;
          continue;
        }
        if (t.value === 'priority') {
          this.next();
          const neg = this.eatPunct('-');
          const n = this.peek();
          if (n.kind !== 'number') this.unexpected('a number after priority');
          this.next();
          const v = Num.parseLiteral(n.value);
          meta.priority = { kind: 'num', value: neg ? v.neg() : v };
          continue;
        }
        if (t.value === 'doc' && this.peek(1).kind === 'str-start') {
          this.next();
          const s = this.parseString();
          if (s.t !== 'str' || !s.parts.every((p) => typeof p === 'string')) {
            this.error('a doc string cannot be interpolated', s.pos.start, s.pos.end);
          }
          meta.doc = (s.parts as string[]).join('');
          continue;
        }
      }
      meta.contracts.push({ node: this.parseType(), isType: false });
    }
    return meta;
  }

  // ---------------------------------------------------------------- let, fun, if, match, import

  private parseLet(): Node {
    const start = this.expectKeyword('let').start;
    const rec = this.isIdent('rec');
    if (rec) this.next();
    const bindings: LetBinding[] = [];
    do {
      if (bindings.length > 0 && this.isIdent('in')) break; // trailing comma
      const bstart = this.peek().start;
      const pat = this.parsePattern();
      const meta = this.isPunct('|') || this.isPunct(':') ? this.parseAnnotations(true) : emptyMeta();
      this.expectPunct('=');
      const value = this.parseTerm();
      bindings.push({ pat, meta, value, pos: this.pos(bstart) });
    } while (this.eatPunct(','));
    this.expectKeyword('in');
    const body = this.parseTerm();
    return { t: 'let', rec, bindings, body, pos: this.pos(start) };
  }

  private parseFun(): Node {
    const start = this.expectKeyword('fun').start;
    const params: Pattern[] = [];
    while (!this.isPunct('=>')) {
      params.push(this.parsePatternAtom());
      if (this.peek().kind === 'eof') this.unexpected("'=>'");
    }
    if (params.length === 0) this.unexpected('a parameter');
    this.expectPunct('=>');
    let body = this.parseTerm();
    for (let k = params.length - 1; k >= 0; k--) {
      body = { t: 'fun', param: params[k] as Pattern, body, pos: this.pos(start) };
    }
    return body;
  }

  private parseIf(): Node {
    const start = this.expectKeyword('if').start;
    const cond = this.parseTerm();
    this.expectKeyword('then');
    const then = this.parseTerm();
    this.expectKeyword('else');
    const els = this.parseTerm();
    return { t: 'if', cond, then, else: els, pos: this.pos(start) };
  }

  private parseMatch(): Node {
    const start = this.next().start;
    this.expectPunct('{');
    const branches: MatchBranch[] = [];
    while (!this.isPunct('}')) {
      const bstart = this.peek().start;
      const pat = this.parsePattern();
      let guard: Node | undefined;
      if (this.isIdent('if')) {
        this.next();
        guard = this.parseTerm();
      }
      this.expectPunct('=>');
      const body = this.parseTerm();
      branches.push(guard ? { pat, guard, body, pos: this.pos(bstart) } : { pat, body, pos: this.pos(bstart) });
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct('}', "',' or '}'");
    return { t: 'match', branches, pos: this.pos(start) };
  }

  private parseImport(): Node {
    const start = this.next().start;
    const s = this.peek();
    if (s.kind !== 'str-start' || s.value !== '') this.unexpected('a file name in double quotes');
    const str = this.parseString();
    if (str.t !== 'str' || !str.parts.every((p) => typeof p === 'string')) {
      this.error('an import path cannot be interpolated', str.pos.start, str.pos.end);
    }
    const path = (str.parts as string[]).join('');
    if (this.isIdent('as')) {
      this.next();
      const f = this.peek();
      if (f.kind !== 'enum') this.unexpected("a format such as 'Json");
      if (!['Nickel', 'Json', 'Yaml', 'Toml', 'Text'].includes(f.value)) {
        this.error(`unknown import format '${f.value}: expected 'Nickel, 'Json, 'Yaml, 'Toml or 'Text`, f.start, f.end);
      }
      this.next();
      return { t: 'import', path, format: f.value, pos: this.pos(start) };
    }
    return { t: 'import', path, pos: this.pos(start) };
  }

  // ---------------------------------------------------------------- patterns

  /** A pattern, with `or` alternatives and `x @ p` aliases. */
  private parsePattern(): Pattern {
    const start = this.peek().start;
    const first = this.parsePatternNoOr();
    if (!this.isIdent('or')) return first;
    const alts = [first];
    while (this.isIdent('or')) {
      this.next();
      alts.push(this.parsePatternNoOr());
    }
    return { p: 'or', alts, pos: this.pos(start) };
  }

  private parsePatternNoOr(): Pattern {
    const t = this.peek();
    // 'Tag pattern: a variant with an argument
    if (t.kind === 'enum') {
      this.next();
      const after = this.peek();
      // `or` after a tag is the or-pattern keyword, unless it is a variable: `('Foo or) or ('Baz or)`.
      const orAsVariable =
        after.kind === 'ident' && after.value === 'or' && [')', ',', '=>'].includes(this.peek(1).value);
      const takesArg =
        after.kind === 'number' ||
        after.kind === 'str-start' ||
        after.kind === 'enum' ||
        (after.kind === 'ident' && after.value !== 'if' && (after.value !== 'or' || orAsVariable)) ||
        (after.kind === 'punct' && ['(', '{', '[', '-'].includes(after.value));
      if (takesArg) {
        const arg = this.parsePatternAtom();
        return { p: 'enum', tag: t.value, arg, pos: this.pos(t.start) };
      }
      return { p: 'enum', tag: t.value, pos: this.pos(t.start) };
    }
    return this.parsePatternAtom();
  }

  private parsePatternAtom(): Pattern {
    const t = this.peek();
    const start = t.start;
    if (t.kind === 'ident') {
      if (t.value === '_') {
        this.next();
        return { p: 'any', pos: this.pos(start) };
      }
      if (t.value === 'true' || t.value === 'false' || t.value === 'null') {
        return { p: 'const', value: this.parseAtom(), pos: this.pos(start) };
      }
      if (KEYWORDS.has(t.value)) this.unexpected('a pattern');
      this.next();
      if (this.isPunct('@')) {
        this.next();
        const pat = this.parsePatternNoOr();
        return { p: 'alias', name: t.value, pat, pos: this.pos(start) };
      }
      return { p: 'bind', name: t.value, pos: this.pos(start) };
    }
    if (t.kind === 'number' || t.kind === 'str-start') {
      return { p: 'const', value: this.parseAtom(), pos: this.pos(start) };
    }
    if (t.kind === 'punct' && t.value === '-' && this.peek(1).kind === 'number') {
      this.next();
      const n = this.next();
      return {
        p: 'const',
        value: { t: 'num', value: Num.parseLiteral(n.value).neg(), pos: this.pos(start) },
        pos: this.pos(start),
      };
    }
    if (t.kind === 'enum') {
      this.next();
      return { p: 'enum', tag: t.value, pos: this.pos(start) };
    }
    if (t.kind === 'punct') {
      if (t.value === '(') {
        this.next();
        const p = this.parsePattern();
        this.expectPunct(')');
        return p;
      }
      if (t.value === '{') return this.parseRecordPattern();
      if (t.value === '[') return this.parseArrayPattern();
    }
    return this.unexpected('a pattern');
  }

  private parseRecordPattern(): Pattern {
    const start = this.next().start;
    const fields: RecordPatternField[] = [];
    let rest: string | undefined;
    let open = false;
    const seen = new Set<string>();
    while (!this.isPunct('}')) {
      if (this.isPunct('..')) {
        this.next();
        open = true;
        const r = this.peek();
        if (r.kind === 'ident' && !KEYWORDS.has(r.value)) {
          this.next();
          rest = r.value;
        }
        this.eatPunct(',');
        break;
      }
      const fstart = this.peek().start;
      const nameTok = this.peek();
      let name: string;
      if (nameTok.kind === 'ident') {
        this.next();
        name = nameTok.value;
      } else if (nameTok.kind === 'str-start') {
        const fn = this.parseFieldName();
        if (!('static' in fn)) this.error('a pattern field name cannot be interpolated', fn.pos.start, fn.pos.end);
        name = fn.static;
      } else this.unexpected('a field name');
      const meta = this.isPunct('|') || this.isPunct(':') ? this.parseAnnotations(false) : emptyMeta();
      let def: Node | undefined;
      let pat: Pattern | undefined;
      if (this.eatPunct('?')) def = this.parseTerm();
      if (this.eatPunct('=')) pat = this.parsePattern();
      if (!pat) {
        if (seen.has(name)) {
          this.error(
            `duplicate identifier \`${name}\` in a record pattern`,
            fstart,
            this.pos(fstart).end,
            'ParseError::DuplicateIdentInRecordPattern',
            { ident: name },
          );
        }
        seen.add(name);
      }
      const f: RecordPatternField = { name, meta, pos: this.pos(fstart) };
      if (pat) f.pat = pat;
      if (def) f.default = def;
      fields.push(f);
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct('}', "',' or '}'");
    const p: Pattern = { p: 'record', fields, open, pos: this.pos(start) };
    if (rest) p.rest = rest;
    return p;
  }

  private parseArrayPattern(): Pattern {
    const start = this.next().start;
    const items: Pattern[] = [];
    let rest: string | undefined;
    let open = false;
    while (!this.isPunct(']')) {
      if (this.isPunct('..')) {
        this.next();
        open = true;
        const r = this.peek();
        if (r.kind === 'ident' && !KEYWORDS.has(r.value)) {
          this.next();
          rest = r.value;
        }
        this.eatPunct(',');
        break;
      }
      items.push(this.parsePattern());
      if (!this.eatPunct(',')) break;
    }
    this.expectPunct(']', "',' or ']'");
    const p: Pattern = { p: 'array', items, open, pos: this.pos(start) };
    if (rest) p.rest = rest;
    return p;
  }
}

/** `{ a : T, b : U }` (every field a plain name with only a type, no value) is a record type. */
function recordType(fields: FieldDef[], includes: number, open: boolean, pos: Pos): Node | undefined {
  if (fields.length === 0 || includes > 0) return undefined;
  const typed = fields.every(
    (f) =>
      f.value === undefined &&
      f.path.length === 1 &&
      'static' in (f.path[0] as FieldName) &&
      f.meta.contracts.length === 1 &&
      f.meta.contracts[0]?.isType &&
      f.meta.priority === undefined &&
      f.meta.doc === undefined &&
      !f.meta.notExported,
  );
  if (!typed) return undefined;
  return {
    t: 'recordType',
    fields: fields.map((f) => ({
      name: (f.path[0] as { static: string }).static,
      type: (f.meta.contracts[0] as Annotation).node,
      optional: f.meta.optional === true,
      pos: f.pos,
    })),
    open,
    pos,
  };
}

function mergeText(parts: (string | Node)[]): (string | Node)[] {
  const out: (string | Node)[] = [];
  for (const p of parts) {
    if (typeof p === 'string' && typeof out[out.length - 1] === 'string') out[out.length - 1] += p;
    else out.push(p);
  }
  return out;
}

/**
 * Multiline strings: drop a first line and a last line that hold only blanks, then remove the
 * indentation common to all lines that hold something.
 */
function dedent(parts: (string | Node)[]): (string | Node)[] {
  const lines: (string | Node)[][] = [[]];
  for (const p of parts) {
    if (typeof p !== 'string') {
      (lines[lines.length - 1] as (string | Node)[]).push(p);
      continue;
    }
    const pieces = p.split('\n');
    pieces.forEach((piece, k) => {
      if (k > 0) lines.push([]);
      if (piece !== '') (lines[lines.length - 1] as (string | Node)[]).push(piece);
    });
  }
  const blank = (l: (string | Node)[]) => l.every((x) => typeof x === 'string' && /^[ \t]*$/.test(x));
  if (lines.length > 1 && blank(lines[0] as (string | Node)[])) lines.shift();
  if (lines.length > 1 && blank(lines[lines.length - 1] as (string | Node)[])) lines.pop();
  let indent = Number.POSITIVE_INFINITY;
  for (const l of lines) {
    if (blank(l)) continue;
    const first = l[0];
    const lead = typeof first === 'string' ? (/^[ \t]*/.exec(first) as RegExpExecArray)[0].length : 0;
    indent = Math.min(indent, lead);
  }
  if (!Number.isFinite(indent)) indent = 0;
  const out: (string | Node)[] = [];
  lines.forEach((l, k) => {
    if (k > 0) out.push('\n');
    l.forEach((x, j) => {
      if (j === 0 && typeof x === 'string') out.push(blank(l) ? x.slice(Math.min(indent, x.length)) : x.slice(indent));
      else out.push(x);
    });
  });
  return mergeText(out).filter((x) => x !== '');
}
