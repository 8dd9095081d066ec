/**
 * A parser for HCL version 1, the dialect Vault's ACL policies are written in (Vault parses them
 * with hashicorp/hcl v1, not HCL2). It covers what policies use: `key "label" { ... }` blocks,
 * `key = value`, strings with escapes, numbers, booleans, lists, nested objects, and `#`, `//` and
 * `/* *\/` comments. Nesting is bounded (a policy is never deep; a hostile document must not
 * overflow the stack). Errors read like hcl's: `At 3:14: <what>`.
 *
 * The npm packages that wrap hcl are GopherJS or WASM builds of the Go code, published once, and
 * one of them takes the whole process down on deeply nested input; this is small enough to own.
 */

export type HclValue =
  | { kind: 'string'; value: string; line: number }
  | { kind: 'number'; value: number; line: number }
  | { kind: 'bool'; value: boolean; line: number }
  | { kind: 'list'; items: HclValue[]; line: number }
  | { kind: 'object'; items: HclItem[]; line: number };

/** One `keys... = value` or `keys... { }`: `path "secret/*" { }` has keys ["path", "secret/*"]. */
export interface HclItem {
  keys: string[];
  value: HclValue;
  line: number;
}

export class HclError extends Error {}

const MAX_DEPTH = 32;

type Tok =
  | { t: 'ident' | 'string' | 'number' | 'bool'; v: string; line: number; col: number }
  | { t: '=' | '{' | '}' | '[' | ']' | ',' | 'eof'; v: string; line: number; col: number };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  let line = 1;
  let lineStart = 0;
  const fail = (msg: string, at = i): never => {
    throw new HclError(`At ${line}:${at - lineStart + 1}: ${msg}`);
  };
  while (i < src.length) {
    const c = src[i] as string;
    if (c === '\n') {
      line++;
      i++;
      lineStart = i;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r' || c === '\uFEFF') {
      i++;
      continue;
    }
    if (c === '#' || (c === '/' && src[i + 1] === '/')) {
      while (i < src.length && src[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && src[i + 1] === '*') {
      const end = src.indexOf('*/', i + 2);
      if (end < 0) fail('comment not terminated');
      for (let j = i; j < end; j++) {
        if (src[j] === '\n') {
          line++;
          lineStart = j + 1;
        }
      }
      i = end + 2;
      continue;
    }
    const col = i - lineStart + 1;
    if ('={}[],'.includes(c)) {
      out.push({ t: c as '=', v: c, line, col });
      i++;
      continue;
    }
    if (c === '"') {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length || src[i] === '\n') fail('literal not terminated', i);
        const d = src[i] as string;
        if (d === '"') {
          i++;
          break;
        }
        if (d === '\\') {
          const e = src[i + 1];
          const simple: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\', '/': '/' };
          if (e !== undefined && simple[e] !== undefined) {
            s += simple[e];
            i += 2;
          } else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(src.slice(i + 2, i + 6))) {
            s += String.fromCharCode(Number.parseInt(src.slice(i + 2, i + 6), 16));
            i += 6;
          } else {
            fail('invalid escape sequence in string', i);
          }
          continue;
        }
        s += d;
        i++;
      }
      out.push({ t: 'string', v: s, line, col });
      continue;
    }
    const num = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(src.slice(i, i + 64));
    if (num && (c === '-' || (c >= '0' && c <= '9'))) {
      out.push({ t: 'number', v: num[0], line, col });
      i += num[0].length;
      continue;
    }
    const id = /^[A-Za-z_][A-Za-z0-9_.-]*/.exec(src.slice(i, i + 256));
    if (id) {
      const v = id[0];
      out.push({ t: v === 'true' || v === 'false' ? 'bool' : 'ident', v, line, col });
      i += v.length;
      continue;
    }
    fail(`illegal char ${JSON.stringify(c)}`);
  }
  out.push({ t: 'eof', v: '', line, col: i - lineStart + 1 });
  return out;
}

/** Parses an HCL document into its top-level items (repeated keys kept, in order). */
export function parseHcl(src: string): HclItem[] {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p] as Tok;
  const fail = (tok: Tok, msg: string): never => {
    throw new HclError(`At ${tok.line}:${tok.col}: ${msg}`);
  };
  const name = (t: Tok) => (t.t === 'eof' ? 'EOF' : t.t === 'string' ? `"${t.v}"` : t.v);

  function items(depth: number, closing: '}' | 'eof'): HclItem[] {
    if (depth > MAX_DEPTH) fail(peek(), `nesting deeper than ${MAX_DEPTH} levels`);
    const out: HclItem[] = [];
    for (;;) {
      const t = peek();
      if (t.t === closing) return out;
      if (t.t === ',') {
        p++;
        continue;
      }
      if (t.t === 'eof') fail(t, `object expected closing RBRACE got: EOF`);
      if (t.t !== 'ident' && t.t !== 'string') fail(t, `expected: IDENT | STRING got: ${name(t)}`);
      const keys: string[] = [];
      while (peek().t === 'ident' || peek().t === 'string') keys.push((toks[p++] as Tok).v);
      const next = peek();
      if (next.t === '=') {
        if (keys.length > 1) fail(next, `nested object expected: LBRACE got: ASSIGN`);
        p++;
        out.push({ keys, value: value(depth + 1), line: t.line });
      } else if (next.t === '{') {
        out.push({ keys, value: value(depth + 1), line: t.line });
      } else {
        fail(next, `key '${keys.join(' ')}' expected start of object ('{') or assignment ('=')`);
      }
    }
  }

  function value(depth: number): HclValue {
    if (depth > MAX_DEPTH) fail(peek(), `nesting deeper than ${MAX_DEPTH} levels`);
    const t = toks[p++] as Tok;
    switch (t.t) {
      case 'string':
        return { kind: 'string', value: t.v, line: t.line };
      case 'number':
        return { kind: 'number', value: Number(t.v), line: t.line };
      case 'bool':
        return { kind: 'bool', value: t.v === 'true', line: t.line };
      case '{': {
        const inner = items(depth + 1, '}');
        p++;
        return { kind: 'object', items: inner, line: t.line };
      }
      case '[': {
        const list: HclValue[] = [];
        for (;;) {
          const n = peek();
          if (n.t === ']') {
            p++;
            return { kind: 'list', items: list, line: t.line };
          }
          if (n.t === 'eof') fail(n, 'unexpected token while parsing list: EOF');
          list.push(value(depth + 1));
          const sep = peek();
          if (sep.t === ',') p++;
          else if (sep.t !== ']') fail(sep, `unexpected token while parsing list: ${name(sep)}`);
        }
      }
      default:
        return fail(t, `Unknown token: ${name(t)}`);
    }
  }

  const out = items(0, 'eof');
  return out;
}

/** An HCL value as plain data (objects of repeated keys keep the last one); for JSON-like fields. */
export function hclToPlain(v: HclValue): unknown {
  switch (v.kind) {
    case 'list':
      return v.items.map(hclToPlain);
    case 'object': {
      const o: Record<string, unknown> = Object.create(null);
      for (const it of v.items) {
        let target = o;
        for (const k of it.keys.slice(0, -1)) {
          const cur = target[k];
          target[k] = cur && typeof cur === 'object' && !Array.isArray(cur) ? cur : Object.create(null);
          target = target[k] as Record<string, unknown>;
        }
        target[it.keys[it.keys.length - 1] as string] = hclToPlain(it.value);
      }
      return o;
    }
    default:
      return v.value;
  }
}
