import { invalid } from '../../errors.js';

/**
 * Fills `{{name}}`, `{{password}}`, ... in SQL statements written by an operator, so that no value
 * can change what a statement does: each value is escaped for the place it lands in (inside
 * "...", '...' or E'...'), quoted where it stands bare, and refused where SQL has no escaping
 * (dollar-quoted bodies, comments) unless it is made of harmless characters only.
 * Variables the statement does not know are left as they are, as Vault does.
 */
export interface SqlValue {
  /** How the value is quoted where the template leaves it bare. */
  kind: 'identifier' | 'literal';
  value: string;
}

type Place = 'code' | 'identifier' | 'string' | 'escapeString' | 'dollar' | 'lineComment' | 'blockComment';

const HARMLESS = /^[\w .:+-]*$/;

export const quoteIdentifier = (s: string) => `"${noNul(s).replaceAll('"', '""')}"`;

/** A standard string literal; backslashes make it an E'' literal, whose meaning does not depend on server settings. */
export const quoteLiteral = (s: string) =>
  noNul(s).includes('\\') ? ` E'${s.replaceAll('\\', '\\\\').replaceAll("'", "''")}'` : `'${s.replaceAll("'", "''")}'`;

function noNul(s: string): string {
  if (s.includes('\0')) throw invalid('a value for an SQL statement contains a NUL character');
  return s;
}

function placed(key: string, v: SqlValue, place: Place): string {
  switch (place) {
    case 'code':
      return v.kind === 'identifier' ? quoteIdentifier(v.value) : quoteLiteral(v.value);
    case 'identifier':
      return noNul(v.value).replaceAll('"', '""');
    case 'string':
      // Whether a backslash escapes here depends on standard_conforming_strings: refuse rather than guess.
      if (v.value.includes('\\')) throw invalid(`{{${key}}} holds a backslash and sits in a '...' string`);
      return noNul(v.value).replaceAll("'", "''");
    case 'escapeString':
      return noNul(v.value).replaceAll('\\', '\\\\').replaceAll("'", "''");
    default:
      if (!HARMLESS.test(v.value)) {
        throw invalid(`{{${key}}} cannot be placed safely inside a dollar-quoted body or a comment`);
      }
      return v.value;
  }
}

const isWordChar = (c: string | undefined) => c !== undefined && /[\w$]/.test(c);

export function renderStatement(sql: string, vars: Record<string, SqlValue>): string {
  let out = '';
  let place: Place = 'code';
  let dollarTag = '';
  let depth = 0;
  let i = 0;
  while (i < sql.length) {
    if (sql.startsWith('{{', i)) {
      const end = sql.indexOf('}}', i + 2);
      const key = end < 0 ? '' : sql.slice(i + 2, end).trim();
      const v = Object.hasOwn(vars, key) ? vars[key] : undefined;
      if (v) {
        out += placed(key, v, place);
        i = end + 2;
        continue;
      }
    }
    const c = sql[i] as string;
    const next = sql[i + 1];
    let token = c;
    switch (place) {
      case 'code':
        if (c === '"') place = 'identifier';
        else if (c === "'") {
          place = /[eE]/.test(out.at(-1) ?? '') && !isWordChar(out.at(-2)) ? 'escapeString' : 'string';
        } else if (c === '-' && next === '-') {
          place = 'lineComment';
          token = '--';
        } else if (c === '/' && next === '*') {
          place = 'blockComment';
          depth = 1;
          token = '/*';
        } else if (c === '$' && !isWordChar(out.at(-1))) {
          const tag = /^\$(?:[A-Za-z_][\w]*)?\$/.exec(sql.slice(i))?.[0];
          if (tag) {
            place = 'dollar';
            dollarTag = tag;
            token = tag;
          }
        }
        break;
      case 'identifier':
        if (c === '"') {
          if (next === '"') token = '""';
          else place = 'code';
        }
        break;
      case 'escapeString':
        if (c === '\\') token = sql.slice(i, i + 2);
        else if (c === "'") {
          if (next === "'") token = "''";
          else place = 'code';
        }
        break;
      case 'string':
        if (c === "'") {
          if (next === "'") token = "''";
          else place = 'code';
        }
        break;
      case 'dollar':
        if (sql.startsWith(dollarTag, i)) {
          place = 'code';
          token = dollarTag;
        }
        break;
      case 'lineComment':
        if (c === '\n') place = 'code';
        break;
      case 'blockComment':
        if (c === '/' && next === '*') {
          depth++;
          token = '/*';
        } else if (c === '*' && next === '/') {
          token = '*/';
          if (--depth === 0) place = 'code';
        }
        break;
    }
    out += token;
    i += token.length;
  }
  return out;
}
