/**
 * Writing Nickel source text: string literals, record keys, and plain values as Nickel expressions.
 * JSON.stringify is not enough: Nickel interpolates `%{`, and JSON's `\uXXXX`, `\b` and `\f` escapes are
 * not Nickel escapes (nickel doc/manual/syntax.md, "Escape sequences").
 */

/** A Nickel string literal, quotes included: `\`, `"` and `%` escaped, control characters as `\u{..}`. */
export function nickelString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '%') out += '\\%';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c < 0x20 || c === 0x7f || (c >= 0x80 && c < 0xa0) || c === 0x2028 || c === 0x2029) {
      out += `\\u{${c.toString(16)}}`;
    } else out += ch;
  }
  return `${out}"`;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_'-]*$/;
const KEYWORDS = new Set([
  'let',
  'in',
  'if',
  'then',
  'else',
  'fun',
  'match',
  'import',
  'rec',
  'forall',
  'true',
  'false',
  'null',
  'default',
  'doc',
  'optional',
  'priority',
  'force',
  'not_exported',
  'Array',
  'Bool',
  'Dyn',
  'Number',
  'String',
]);

/** A record field name: bare when it is an identifier, quoted otherwise. */
export function nickelKey(key: string): string {
  return IDENT.test(key) && !KEYWORDS.has(key) ? key : nickelString(key);
}

/** An enum tag literal: 'aws, or '"with space". */
export function nickelTag(tag: string): string {
  return `'${IDENT.test(tag) && !KEYWORDS.has(tag) ? tag : nickelString(tag)}`;
}

function nickelNumber(n: number): string {
  if (!Number.isFinite(n)) throw new TypeError(`cannot write ${n} as a Nickel number`);
  return Object.is(n, -0) ? '0' : String(n);
}

/** A plain value (JSON data) as a Nickel expression, indented with two spaces. */
export function toNickel(value: unknown, indent = ''): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'string') return nickelString(value);
  if (typeof value === 'number') return nickelNumber(value);
  if (typeof value === 'boolean') return String(value);
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const scalar = value.every((v) => v === null || typeof v !== 'object');
    const items = value.map((v) => toNickel(v, inner));
    const flat = `[${items.join(', ')}]`;
    if (scalar && flat.length + indent.length <= 100) return flat;
    return `[\n${items.map((i) => `${inner}${i},`).join('\n')}\n${indent}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    return `{\n${entries.map(([k, v]) => `${inner}${nickelKey(k)} = ${toNickel(v, inner)},`).join('\n')}\n${indent}}`;
  }
  throw new TypeError(`cannot write a ${typeof value} as Nickel`);
}
