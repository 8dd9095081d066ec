/**
 * The compact schema notation of an agent's `## Output Validation`, turned into a zod schema
 * (what the model's output is checked with) and a JSON Schema (what the model is shown when asked to repair).
 *
 *   {
 *     "issues": [{ "severity": "critical | warning | info", "line": number, "line_end"?: integer }],
 *     "summary": string,
 *     "notes": string | null
 *   }
 *
 * - `string`, `number`, `integer`, `boolean`, `null`, `any`: those types (`object`: any object).
 * - `"a | b | c"`: one of these strings (a quoted string with no `|` is that exact string).
 * - `{ key: value, ... }`: an object with exactly these keys, all required; `"key"?:` or `key?:` makes one optional.
 *   Keys the model adds beyond them are dropped from the result.
 * - `[value]`: an array of values.
 * - `a | b`: either (`string | null` for a nullable string).
 * Keys may be quoted or bare; commas between entries and a trailing comma are optional; `//` starts a comment.
 */
import * as z from '@stratumiops/shared/zod';

export class SchemaSyntaxError extends Error {
  constructor(
    message: string,
    /** 1-based, within the schema text. */
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = 'SchemaSyntaxError';
  }
}

export type SchemaNode =
  | { kind: 'type'; name: 'string' | 'number' | 'integer' | 'boolean' | 'null' | 'any' | 'object' }
  | { kind: 'enum'; values: string[] }
  | { kind: 'object'; entries: { key: string; optional: boolean; value: SchemaNode }[] }
  | { kind: 'array'; item: SchemaNode }
  | { kind: 'union'; options: SchemaNode[] };

const TYPES = ['string', 'number', 'integer', 'boolean', 'null', 'any', 'object'] as const;

interface Token {
  t: 'punct' | 'string' | 'word' | 'end';
  v: string;
  line: number;
  col: number;
}

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let col = 1;
  let i = 0;
  const advance = (n: number) => {
    for (let k = 0; k < n; k++) {
      if (src[i] === '\n') {
        line++;
        col = 1;
      } else col++;
      i++;
    }
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      advance(1);
      continue;
    }
    if (c === '/' && src[i + 1] === '/') {
      while (i < src.length && src[i] !== '\n') advance(1);
      continue;
    }
    const at = { line, col };
    if ('{}[]:,|?'.includes(c)) {
      out.push({ t: 'punct', v: c, ...at });
      advance(1);
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let v = '';
      while (j < src.length && src[j] !== c && src[j] !== '\n') {
        if (src[j] === '\\' && j + 1 < src.length) j++;
        v += src[j];
        j++;
      }
      if (src[j] !== c) throw new SchemaSyntaxError('unterminated string', at.line, at.col);
      out.push({ t: 'string', v, ...at });
      advance(j + 1 - i);
      continue;
    }
    const m = /^[A-Za-z_][A-Za-z0-9_-]*/.exec(src.slice(i));
    if (m) {
      out.push({ t: 'word', v: m[0], ...at });
      advance(m[0].length);
      continue;
    }
    throw new SchemaSyntaxError(`unexpected character '${c}'`, at.line, at.col);
  }
  out.push({ t: 'end', v: '', line, col });
  return out;
}

/** Parses the notation; throws SchemaSyntaxError with the line and column of the problem. */
export function parseSchema(src: string): SchemaNode {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p] as Token;
  const next = () => toks[p++] as Token;
  const fail = (tok: Token, msg: string): never => {
    throw new SchemaSyntaxError(msg, tok.line, tok.col);
  };
  const show = (tok: Token) => (tok.t === 'end' ? 'the end' : `'${tok.v}'`);
  const expect = (v: string) => {
    const tok = next();
    if (tok.t !== 'punct' || tok.v !== v) fail(tok, `expected '${v}', found ${show(tok)}`);
  };

  const value = (): SchemaNode => {
    const options = [single()];
    while (peek().t === 'punct' && peek().v === '|') {
      next();
      options.push(single());
    }
    return options.length === 1 ? (options[0] as SchemaNode) : { kind: 'union', options };
  };

  const single = (): SchemaNode => {
    const tok = next();
    if (tok.t === 'punct' && tok.v === '{') return object();
    if (tok.t === 'punct' && tok.v === '[') {
      if (peek().t === 'punct' && peek().v === ']') fail(peek(), 'an array needs its item type, e.g. [string]');
      const item = value();
      expect(']');
      return { kind: 'array', item };
    }
    if (tok.t === 'string') {
      const values = tok.v.split('|').map((s) => s.trim());
      if (values.some((v) => v === '')) fail(tok, `empty alternative in "${tok.v}"`);
      return { kind: 'enum', values };
    }
    if (tok.t === 'word') {
      if ((TYPES as readonly string[]).includes(tok.v)) return { kind: 'type', name: tok.v as (typeof TYPES)[number] };
      return fail(tok, `unknown type '${tok.v}' (expected ${TYPES.join(', ')}, "a | b", {…} or [...])`);
    }
    return fail(tok, `expected a type, found ${show(tok)}`);
  };

  const object = (): SchemaNode => {
    const entries: { key: string; optional: boolean; value: SchemaNode }[] = [];
    const seen = new Set<string>();
    for (;;) {
      const tok = next();
      if (tok.t === 'punct' && tok.v === '}') break;
      if (tok.t === 'punct' && tok.v === ',') continue;
      if (tok.t !== 'string' && tok.t !== 'word') fail(tok, `expected a key or '}', found ${show(tok)}`);
      let key = tok.v;
      let optional = false;
      if (key.endsWith('?')) {
        key = key.slice(0, -1);
        optional = true;
      }
      if (peek().t === 'punct' && peek().v === '?') {
        next();
        optional = true;
      }
      if (seen.has(key)) fail(tok, `key '${key}' appears twice`);
      seen.add(key);
      expect(':');
      entries.push({ key, optional, value: value() });
      const after = peek();
      if (!(after.t === 'punct' && (after.v === ',' || after.v === '}')) && after.t !== 'string' && after.t !== 'word')
        fail(after, `expected ',' or '}', found ${show(after)}`);
    }
    return { kind: 'object', entries };
  };

  if (peek().t === 'end') fail(peek(), 'the schema is empty');
  const root = value();
  if (peek().t !== 'end') fail(peek(), `unexpected ${show(peek())} after the schema`);
  return root;
}

/** The zod schema of a node: objects strip keys they do not declare. */
export function toZod(n: SchemaNode): z.ZodType {
  switch (n.kind) {
    case 'type':
      switch (n.name) {
        case 'string':
          return z.string();
        case 'number':
          return z.number();
        case 'integer':
          return z.number().int();
        case 'boolean':
          return z.boolean();
        case 'null':
          return z.null();
        case 'any':
          return z.any();
        case 'object':
          return z.record(z.string(), z.unknown());
      }
      break;
    case 'enum':
      return n.values.length === 1 ? z.literal(n.values[0] as string) : z.enum(n.values as [string, ...string[]]);
    case 'array':
      return z.array(toZod(n.item));
    case 'union':
      return z.union(n.options.map(toZod) as [z.ZodType, z.ZodType, ...z.ZodType[]]);
    case 'object':
      return z.object(
        Object.fromEntries(n.entries.map((e) => [e.key, e.optional ? toZod(e.value).optional() : toZod(e.value)])),
      );
  }
}

/** The JSON Schema of a node (draft 2020-12, as zod writes it). */
export function toJsonSchema(n: SchemaNode): Record<string, unknown> {
  const s = z.toJSONSchema(toZod(n)) as Record<string, unknown>;
  delete s.$schema;
  return s;
}

/** Problems of a value against a schema, one line each: `issues[0].severity: expected one of …`. */
export function schemaProblems(
  schema: z.ZodType,
  value: unknown,
): { ok: true; value: unknown } | { ok: false; problems: string[] } {
  const r = schema.safeParse(value);
  if (r.success) return { ok: true, value: r.data };
  return { ok: false, problems: r.error.issues.slice(0, 20).map((i) => describeIssue(i, at(value, i.path))) };
}

function at(value: unknown, path: PropertyKey[]): unknown {
  let v = value;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeIssue(i: z.core.$ZodIssue, input: unknown): string {
  let path = '';
  for (const p of i.path) path += typeof p === 'number' ? `[${p}]` : path ? `.${String(p)}` : String(p);
  const where = path || '(the whole output)';
  switch (i.code) {
    case 'invalid_type':
      return `${where}: ${input === undefined ? 'is missing' : `expected ${i.expected === 'int' ? 'an integer' : i.expected}, got ${kind(input)}`}`;
    case 'invalid_value':
      return `${where}: expected ${i.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${kind(input)}`;
    case 'invalid_union':
      return `${where}: matches none of the allowed types, got ${kind(input)}`;
    default:
      return `${where}: ${i.message}`;
  }
}

function kind(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return `${typeof v} ${s.length > 40 ? `${s.slice(0, 40)}…` : s}`;
}

/**
 * The JSON in a model's answer: the whole text, else the first ```json (or ```) fenced block, else the span from the
 * first `{`/`[` to the last `}`/`]`. Returns why not when there is none.
 */
export function extractJson(text: string): { ok: true; value: unknown } | { ok: false; problem: string } {
  const tryParse = (s: string): { ok: true; value: unknown } | undefined => {
    try {
      return { ok: true, value: JSON.parse(s) };
    } catch {
      return undefined;
    }
  };
  const whole = tryParse(text.trim());
  if (whole) return whole;
  const fence = /```(?:json|JSON)?[ \t]*\r?\n([\s\S]*?)\r?\n?```/.exec(text);
  if (fence) {
    const r = tryParse((fence[1] ?? '').trim());
    if (r) return r;
  }
  const start = text.search(/[{[]/);
  const end = Math.max(text.lastIndexOf('}'), text.lastIndexOf(']'));
  if (start >= 0 && end > start) {
    const slice = text.slice(start, end + 1);
    const r = tryParse(slice);
    if (r) return r;
    try {
      JSON.parse(slice);
    } catch (e) {
      return { ok: false, problem: `the answer is not valid JSON: ${(e as Error).message}` };
    }
  }
  return { ok: false, problem: 'the answer contains no JSON object' };
}
