import { NickelError } from './errors.js';
import type { Source } from './source.js';

export type TokenKind =
  | 'ident'
  | 'number'
  | 'enum' // 'foo or '"any text": value is the tag
  | 'primop' // %name%
  | 'punct' // operators and delimiters: value is the text
  | 'str-start' // " or m%"  (value: '' or the number of % for multiline)
  | 'str-chunk' // literal text inside a string (escapes already applied)
  | 'interp-start' // %{ inside a string
  | 'interp-end' // the } closing an interpolation
  | 'str-end'
  | 'eof';

export interface Token {
  kind: TokenKind;
  value: string;
  start: number;
  end: number;
  /** For multiline string chunks: true when the chunk comes right after a newline (indentation matters). */
  multiline?: boolean;
}

// Longest first: the lexer takes the first that matches.
const PUNCT = [
  '[|',
  '|]',
  '|>',
  '=>',
  '->',
  '==',
  '!=',
  '<=',
  '>=',
  '&&',
  '||',
  '++',
  '..',
  '{',
  '}',
  '(',
  ')',
  '[',
  ']',
  ',',
  ';',
  ':',
  '=',
  '.',
  '|',
  '&',
  '+',
  '-',
  '*',
  '/',
  '%',
  '<',
  '>',
  '!',
  '@',
  '?',
  '$',
];

// Character tests and runs by char code and sticky expressions: a command lexes its config and the
// schemas once, in code not yet optimised, where a regular expression per character is costly.
const isIdentStart = (c: string | undefined) => {
  const x = c === undefined ? 0 : c.charCodeAt(0) | 0x20; // lower-cased letter
  return (x >= 0x61 && x <= 0x7a) || c === '_';
};
const isDigit = (c: string) => c >= '0' && c <= '9';
const IDENT_REST = /[A-Za-z0-9_'-]*/y;
const NUMBER = /0x[0-9a-fA-F]+|0o[0-7]+|0b[01]+|[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const PRIMOP = /%([A-Za-z_][A-Za-z0-9_/-]*)%/y;
/** Text with nothing to look at inside "..." and inside m%"..."%. */
const PLAIN = /[^"\\%]+/y;
const PLAIN_MULTILINE = /[^"%\n]+/y;

/** The end of the run `re` matches at `at` (sticky). */
const runEnd = (re: RegExp, text: string, at: number) => {
  re.lastIndex = at;
  re.test(text);
  return re.lastIndex;
};

interface StringMode {
  kind: 'string';
  /** 0 for "...", n ≥ 1 for m%..."%... with n percent signs. */
  percents: number;
}
interface CodeMode {
  kind: 'code';
  /** Open braces inside this interpolation; the interpolation ends at a `}` when this is 0. */
  depth: number;
}

/** Splits Nickel source into tokens. String interpolations nest, so the lexer keeps a mode stack. */
export function tokenize(src: Source): Token[] {
  const text = src.text;
  const tokens: Token[] = [];
  const modes: (StringMode | CodeMode)[] = [{ kind: 'code', depth: 0 }];
  let i = 0;

  const fail = (msg: string, at: number): never => {
    throw new NickelError('ParseError', msg, { span: src.span(at, at + 1) });
  };

  while (i <= text.length) {
    const mode = modes[modes.length - 1] as StringMode | CodeMode;
    if (mode.kind === 'string') {
      i = lexString(mode);
      continue;
    }
    // code mode: skip blanks and comments
    while (i < text.length) {
      const c = text[i] as string;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f') i++;
      else if (c === '#') {
        while (i < text.length && text[i] !== '\n') i++;
      } else break;
    }
    if (i >= text.length) {
      if (modes.length > 1) fail('unexpected end of file: unclosed string interpolation', text.length);
      tokens.push({ kind: 'eof', value: '', start: text.length, end: text.length });
      break;
    }
    const start = i;
    const c = text[i] as string;

    if (c === '"') {
      tokens.push({ kind: 'str-start', value: '', start, end: i + 1 });
      modes.push({ kind: 'string', percents: 0 });
      i++;
      continue;
    }
    if (c === 'm' && text[i + 1] === '%') {
      let j = i + 1;
      while (text[j] === '%') j++;
      if (text[j] === '"') {
        const percents = j - i - 1;
        tokens.push({ kind: 'str-start', value: String(percents), start, end: j + 1 });
        modes.push({ kind: 'string', percents });
        i = j + 1;
        continue;
      }
    }
    if (isIdentStart(c)) {
      const j = runEnd(IDENT_REST, text, i + 1);
      tokens.push({ kind: 'ident', value: text.slice(i, j), start, end: j });
      i = j;
      continue;
    }
    if (isDigit(c)) {
      NUMBER.lastIndex = i;
      const lit = (NUMBER.exec(text) as RegExpExecArray)[0];
      if (isIdentStart(text[i + lit.length])) {
        fail(`invalid number literal '${lit}${text[i + lit.length]}'`, i);
      }
      tokens.push({ kind: 'number', value: lit, start, end: i + lit.length });
      i += lit.length;
      continue;
    }
    if (c === "'") {
      if (text[i + 1] === '"') {
        // '"any text": a quoted enum tag (no interpolation allowed)
        const { value, end } = readSimpleString(i + 1);
        tokens.push({ kind: 'enum', value, start, end });
        i = end;
        continue;
      }
      if (isIdentStart(text[i + 1])) {
        const j = runEnd(IDENT_REST, text, i + 2);
        tokens.push({ kind: 'enum', value: text.slice(i + 1, j), start, end: j });
        i = j;
        continue;
      }
      fail("expected an enum tag after '", i);
    }
    if (c === '%' && isIdentStart(text[i + 1])) {
      PRIMOP.lastIndex = i;
      const m = PRIMOP.exec(text);
      if (m) {
        tokens.push({ kind: 'primop', value: m[1] as string, start, end: i + m[0].length });
        i += m[0].length;
        continue;
      }
    }
    const codeMode = mode as CodeMode;
    if (c === '{') codeMode.depth++;
    if (c === '}') {
      if (codeMode.depth === 0 && modes.length > 1) {
        tokens.push({ kind: 'interp-end', value: '}', start, end: i + 1 });
        modes.pop();
        i++;
        continue;
      }
      codeMode.depth--;
    }
    const p = PUNCT.find((op) => text.startsWith(op, i));
    if (!p) fail(`unexpected character '${c}'`, i);
    tokens.push({ kind: 'punct', value: p as string, start, end: i + (p as string).length });
    i += (p as string).length;
  }
  return tokens;

  /** Lexes string content up to the closing quote or an interpolation; returns the new position. */
  function lexString(mode: StringMode): number {
    const pct = '%'.repeat(mode.percents);
    const close = mode.percents === 0 ? '"' : `"${pct}`;
    const interp = mode.percents === 0 ? '%{' : `${pct}{`;
    let buf = '';
    let chunkStart = i;
    let afterNewline = false;
    const flush = (end: number) => {
      if (buf !== '' || afterNewline) {
        tokens.push({ kind: 'str-chunk', value: buf, start: chunkStart, end, multiline: afterNewline });
      }
      buf = '';
      afterNewline = false;
      chunkStart = end;
    };
    while (true) {
      if (i >= text.length) fail('unexpected end of file: unclosed string', chunkStart > 0 ? chunkStart - 1 : 0);
      // Inside m%"..."%, `"%{` (a quote, then an interpolation) and `"%%` (more % than the delimiter) are text.
      const after = text[i + close.length];
      if (text.startsWith(close, i) && !(mode.percents > 0 && (after === '{' || after === '%'))) {
        flush(i);
        tokens.push({ kind: 'str-end', value: '', start: i, end: i + close.length });
        modes.pop();
        return i + close.length;
      }
      if (text.startsWith(interp, i)) {
        flush(i);
        tokens.push({ kind: 'interp-start', value: '', start: i, end: i + interp.length });
        modes.push({ kind: 'code', depth: 0 });
        return i + interp.length;
      }
      const plain = runEnd(mode.percents > 0 ? PLAIN_MULTILINE : PLAIN, text, i);
      if (plain > i) {
        buf += text.slice(i, plain);
        i = plain;
        continue;
      }
      const ch = text[i] as string;
      if (mode.percents > 0) {
        if (ch === '\n') {
          buf += '\n';
          i++;
          flush(i);
          afterNewline = true;
          continue;
        }
        buf += ch;
        i++;
        continue;
      }
      if (ch === '\\') {
        const { value, len } = readEscape(i);
        buf += value;
        i += len;
        continue;
      }
      buf += ch;
      i++;
    }
  }

  function readEscape(at: number): { value: string; len: number } {
    const e = text[at + 1];
    switch (e) {
      case 'n':
        return { value: '\n', len: 2 };
      case 't':
        return { value: '\t', len: 2 };
      case 'r':
        return { value: '\r', len: 2 };
      case '"':
        return { value: '"', len: 2 };
      case '\\':
        return { value: '\\', len: 2 };
      case '%':
        return { value: '%', len: 2 };
      case 'x': {
        const hex = text.slice(at + 2, at + 4);
        if (!/^[0-7][0-9a-fA-F]$/.test(hex)) fail('invalid \\x escape: expected two hex digits up to 7F', at);
        return { value: String.fromCharCode(Number.parseInt(hex, 16)), len: 4 };
      }
      case 'u': {
        const m = /^\\u\{([0-9a-fA-F]{1,6})\}/.exec(text.slice(at, at + 10));
        const cp = m ? Number.parseInt(m[1] as string, 16) : -1;
        if (!m || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) fail('invalid \\u{...} escape', at);
        return { value: String.fromCodePoint(cp), len: (m as RegExpExecArray)[0].length };
      }
      default:
        return fail(`invalid escape sequence '\\${e ?? ''}'`, at);
    }
  }

  /** A "..." string without interpolation (quoted enum tags), starting at the quote. */
  function readSimpleString(at: number): { value: string; end: number } {
    let j = at + 1;
    let value = '';
    while (j < text.length && text[j] !== '"') {
      if (text[j] === '\\') {
        const e = readEscape(j);
        value += e.value;
        j += e.len;
      } else if (text.startsWith('%{', j)) {
        fail('interpolation is not allowed in an enum tag', j);
      } else value += text[j++];
    }
    if (j >= text.length) fail('unexpected end of file: unclosed string', at);
    return { value, end: j + 1 };
  }
}
