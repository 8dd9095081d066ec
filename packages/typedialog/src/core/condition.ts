/**
 * `when` conditions: a small expression language over earlier answers.
 *
 *   provider == 'aws' && enable_encryption
 *   size in ['large', 'xlarge'] || not public
 *   skills contains 'rust'        age >= 18        (workers > 3) and region != ""
 *
 * A bare field name is true when the answer is truthy (true, a non-empty string or list, a non-zero number).
 * An unanswered field compares as missing: only `!=` is true for it. Parsing is done once per form; the AST
 * is plain JSON, so the web page evaluates the same tree in the browser.
 */
export type Literal = string | number | boolean;
export type Condition =
  | { op: 'field'; name: string }
  | { op: 'lit'; value: Literal }
  | { op: 'list'; items: Literal[] }
  | { op: 'not'; arg: Condition }
  | { op: 'and' | 'or'; args: Condition[] }
  | { op: '==' | '!=' | '<' | '<=' | '>' | '>=' | 'in' | 'contains'; left: Condition; right: Condition };

export class ConditionError extends Error {
  constructor(
    message: string,
    readonly column: number,
  ) {
    super(message);
    this.name = 'ConditionError';
  }
}

interface Token {
  kind: 'ident' | 'str' | 'num' | 'op' | 'end';
  text: string;
  value?: Literal;
  col: number;
}

const OPS = ['==', '!=', '<=', '>=', '&&', '||', '<', '>', '!', '(', ')', '[', ']', ','];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i + 1;
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        s += src[j];
        j++;
      }
      if (j >= src.length) throw new ConditionError('unclosed string', col);
      out.push({ kind: 'str', text: src.slice(i, j + 1), value: s, col });
      i = j + 1;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(src.slice(i));
    if (num && (c !== '-' || out.length === 0 || out.at(-1)?.kind === 'op')) {
      out.push({ kind: 'num', text: num[0], value: Number(num[0]), col });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (id) {
      out.push({ kind: 'ident', text: id[0], col });
      i += id[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new ConditionError(`unexpected character '${c}'`, col);
    out.push({ kind: 'op', text: op, col });
    i += op.length;
  }
  out.push({ kind: 'end', text: 'end of condition', col: src.length + 1 });
  return out;
}

const KEYWORDS: Record<string, string> = { and: '&&', or: '||', not: '!' };

/** Parses a condition; throws ConditionError with the column of the problem. */
export function parseCondition(src: string): Condition {
  const toks = tokenize(src).map((t) =>
    t.kind === 'ident' && KEYWORDS[t.text] ? { ...t, kind: 'op' as const, text: KEYWORDS[t.text] as string } : t,
  );
  let pos = 0;
  const peek = () => toks[pos] as Token;
  const next = () => toks[pos++] as Token;
  const isOp = (text: string) => peek().kind === 'op' && peek().text === text;
  const expect = (text: string) => {
    const t = next();
    if (t.kind !== 'op' || t.text !== text) throw new ConditionError(`expected '${text}', found '${t.text}'`, t.col);
  };

  const literal = (): Literal => {
    const t = next();
    if (t.kind === 'str' || t.kind === 'num') return t.value as Literal;
    if (t.kind === 'ident' && (t.text === 'true' || t.text === 'false')) return t.text === 'true';
    throw new ConditionError(`expected a value, found '${t.text}'`, t.col);
  };
  const primary = (): Condition => {
    const t = peek();
    if (t.kind === 'op' && t.text === '(') {
      next();
      const e = or();
      expect(')');
      return e;
    }
    if (t.kind === 'op' && t.text === '[') {
      next();
      const items: Literal[] = [];
      if (!isOp(']')) {
        items.push(literal());
        while (isOp(',')) {
          next();
          items.push(literal());
        }
      }
      expect(']');
      return { op: 'list', items };
    }
    if (t.kind === 'ident') {
      next();
      if (t.text === 'true' || t.text === 'false') return { op: 'lit', value: t.text === 'true' };
      if (t.text === 'in' || t.text === 'contains') throw new ConditionError(`expected a field or a value`, t.col);
      return { op: 'field', name: t.text };
    }
    if (t.kind === 'str' || t.kind === 'num') {
      next();
      return { op: 'lit', value: t.value as Literal };
    }
    throw new ConditionError(`expected a field or a value, found '${t.text}'`, t.col);
  };
  const comparison = (): Condition => {
    const left = primary();
    const t = peek();
    if (t.kind === 'op' && ['==', '!=', '<', '<=', '>', '>='].includes(t.text)) {
      next();
      return { op: t.text as '==', left, right: primary() };
    }
    if (t.kind === 'ident' && (t.text === 'in' || t.text === 'contains')) {
      next();
      const right = primary();
      if (t.text === 'in' && right.op !== 'list' && right.op !== 'field') {
        throw new ConditionError(`'in' needs a list such as ['a', 'b']`, t.col);
      }
      return { op: t.text, left, right };
    }
    return left;
  };
  const not = (): Condition => {
    if (isOp('!')) {
      next();
      return { op: 'not', arg: not() };
    }
    return comparison();
  };
  const chain = (opText: string, op: 'and' | 'or', sub: () => Condition) => (): Condition => {
    const args = [sub()];
    while (isOp(opText)) {
      next();
      args.push(sub());
    }
    return args.length === 1 ? (args[0] as Condition) : { op, args };
  };
  const and = chain('&&', 'and', not);
  const or = chain('||', 'or', and);

  const tree = or();
  const end = peek();
  if (end.kind !== 'end') throw new ConditionError(`unexpected '${end.text}'`, end.col);
  return tree;
}

/** Every field name a condition reads. */
export function conditionFields(c: Condition, out: string[] = []): string[] {
  switch (c.op) {
    case 'field':
      out.push(c.name);
      break;
    case 'not':
      conditionFields(c.arg, out);
      break;
    case 'and':
    case 'or':
      for (const a of c.args) conditionFields(a, out);
      break;
    case 'lit':
    case 'list':
      break;
    default:
      conditionFields(c.left, out);
      conditionFields(c.right, out);
  }
  return out;
}

const MISSING = Symbol('missing');
type Val = unknown;

function truthy(v: Val): boolean {
  if (v === MISSING || v === undefined || v === null || v === false || v === '' || v === 0) return false;
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

function equal(a: Val, b: Val): boolean {
  if (a === MISSING || b === MISSING) return false;
  if (typeof a === 'number' && typeof b === 'string') return a === Number(b);
  if (typeof a === 'string' && typeof b === 'number') return Number(a) === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  return a === b;
}

function compare(a: Val, b: Val): number | undefined {
  if (a === MISSING || b === MISSING || a === undefined || b === undefined) return undefined;
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    return Number.isNaN(x) || Number.isNaN(y) ? undefined : x - y;
  }
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

function value(c: Condition, answers: Readonly<Record<string, unknown>>): Val {
  switch (c.op) {
    case 'field': {
      const v = answers[c.name];
      return v === undefined ? MISSING : v;
    }
    case 'lit':
      return c.value;
    case 'list':
      return c.items;
    default:
      return evalCondition(c, answers);
  }
}

/** Evaluates a condition against the answers given so far. */
export function evalCondition(c: Condition, answers: Readonly<Record<string, unknown>>): boolean {
  switch (c.op) {
    case 'field':
    case 'lit':
    case 'list':
      return truthy(value(c, answers));
    case 'not':
      return !evalCondition(c.arg, answers);
    case 'and':
      return c.args.every((a) => evalCondition(a, answers));
    case 'or':
      return c.args.some((a) => evalCondition(a, answers));
    case '==':
      return equal(value(c.left, answers), value(c.right, answers));
    case '!=':
      return !equal(value(c.left, answers), value(c.right, answers));
    case 'in': {
      const l = value(c.left, answers);
      const r = value(c.right, answers);
      return Array.isArray(r) && r.some((x) => equal(l, x));
    }
    case 'contains': {
      const l = value(c.left, answers);
      const r = value(c.right, answers);
      if (Array.isArray(l)) return l.some((x) => equal(x, r));
      return typeof l === 'string' && typeof r === 'string' && l.includes(r);
    }
    default: {
      const d = compare(value(c.left, answers), value(c.right, answers));
      if (d === undefined) return false;
      return c.op === '<' ? d < 0 : c.op === '<=' ? d <= 0 : c.op === '>' ? d > 0 : d >= 0;
    }
  }
}

/**
 * The evaluator as browser JavaScript: the web page hides the fields whose condition is false with the
 * very functions above (their compiled text), so the page and the server cannot disagree.
 */
export function conditionScript(): string {
  return ["const MISSING = Symbol('missing');", truthy, equal, compare, value, evalCondition].map(String).join('\n');
}
