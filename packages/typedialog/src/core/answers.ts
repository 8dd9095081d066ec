/** Answers files for CI: JSON, YAML or TOML, chosen by extension (`-` reads JSON or YAML from stdin). */
import { existsSync, readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { readStdinSync } from '@stratumiops/shared/output';
import { parse as parseToml, TomlError } from 'smol-toml';
import YAML from 'yaml';
import type { Answers } from './engine.js';
import { refuseFolder } from './files.js';

function malformed(file: string, line: number | undefined, column: number | undefined, message: string) {
  const where = line ? `${file}:${line}${column ? `:${column}` : ''}` : file;
  return new StratumError('validation', `malformed answers file ${where}: ${message}`, {
    hint: 'the answers file must be a table of field id = answer',
    details: { file, ...(line ? { line } : {}), ...(column ? { column } : {}) },
  });
}

/** TOML local dates (`start = 2024-01-15`) become the YYYY-MM-DD strings date fields hold. */
function plain(v: unknown): unknown {
  if (v instanceof Date) {
    const s = v.toISOString();
    return /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : s.slice(0, 10);
  }
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function parseAnswers(text: string, file: string, format: 'json' | 'yaml' | 'toml'): Answers {
  let data: unknown;
  try {
    if (format === 'toml') data = parseToml(text);
    else if (format === 'json') data = JSON.parse(text);
    else data = YAML.parse(text);
  } catch (e) {
    if (e instanceof TomlError) throw malformed(file, e.line, e.column, e.message.split('\n')[0] ?? '');
    if (e instanceof YAML.YAMLParseError) {
      throw malformed(file, e.linePos?.[0].line, e.linePos?.[0].col, e.message.split(' at line')[0] ?? '');
    }
    if (e instanceof SyntaxError) {
      const pos = /line (\d+) column (\d+)/.exec(e.message);
      throw malformed(file, pos ? Number(pos[1]) : undefined, pos ? Number(pos[2]) : undefined, e.message);
    }
    throw e;
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw malformed(file, undefined, undefined, 'expected a table of answers at the top level');
  }
  return plain(data) as Answers;
}

export function answersFormat(path: string): 'json' | 'yaml' | 'toml' {
  const ext = extname(path).toLowerCase();
  if (ext === '.json') return 'json';
  if (ext === '.yaml' || ext === '.yml') return 'yaml';
  if (ext === '.toml') return 'toml';
  throw usageError(`cannot tell the format of answers file ${path}`, { hint: 'use a .json, .yaml or .toml file' });
}

/** Reads an answers file; `-` reads stdin (JSON or YAML). */
export function loadAnswers(path: string): Answers {
  if (path === '-') return parseAnswers(readStdinSync(), '<stdin>', 'yaml');
  refuseFolder(path, `answers file ${path} is a folder: name a .json, .yaml or .toml file`);
  const format = answersFormat(path);
  if (!existsSync(path)) throw new StratumError('notFound', `answers file ${path} does not exist`);
  return parseAnswers(readFileSync(path, 'utf8'), path, format);
}
