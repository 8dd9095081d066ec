import { isAbsolute, relative, sep } from 'node:path';
import type { NickelError, Span } from './errors.js';

/**
 * A file as people should read it: relative to the working directory when it is inside; a schema
 * outside it as `schemas/server.ncl` (not `../../../…/schemas/server.ncl`); anything else absolute.
 */
export function displayPath(file: string, cwd = process.cwd()): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(cwd, file);
  if (rel && !rel.startsWith('..') && !isAbsolute(rel)) return rel;
  const at = file.lastIndexOf(`${sep}schemas${sep}`);
  return at >= 0 ? file.slice(at + 1) : file;
}

const where = (s: Span, cwd: string) => `${displayPath(s.file, cwd)}:${s.line}:${s.column}`;

/** `servers[2].spec.disk_gb` */
export function formatFieldPath(path: string[]): string {
  let out = '';
  for (const seg of path) {
    if (seg.startsWith('[')) out += seg;
    else if (/^[A-Za-z_][A-Za-z0-9_'-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `${out ? '.' : ''}"${seg}"`;
  }
  return out;
}

/** Source lines longer than this are shown as a window around the caret. */
export const MAX_EXCERPT = 120;

function excerpt(s: Span): string[] {
  if (s.lineText === undefined) return [];
  const num = String(s.line);
  const pad = ' '.repeat(num.length);
  let text = s.lineText;
  let col = s.column - 1;
  let width = Math.max(1, Math.min(s.end - s.offset, text.length - col));
  if (text.length > MAX_EXCERPT) {
    // A window of MAX_EXCERPT characters with the caret a third in; … marks what was cut.
    width = Math.min(width, MAX_EXCERPT - 40);
    const start = Math.max(0, Math.min(col - 40, text.length - MAX_EXCERPT));
    const end = Math.min(text.length, start + MAX_EXCERPT);
    const head = start > 0 ? '…' : '';
    text = `${head}${text.slice(start, end)}${end < s.lineText.length ? '…' : ''}`;
    col = col - start + head.length;
  }
  return [`${pad} |`, `${num} | ${text}`, `${pad} | ${' '.repeat(col)}${'^'.repeat(width)}`];
}

/**
 * One readable block for a Nickel error: what broke, the contract (name or doc), the full field
 * path, the value, the position with its line and a caret, and where the contract was attached.
 */
export function formatNickelError(e: NickelError, cwd = process.cwd()): string {
  const lines = [`error: ${e.title}`];
  if (e.contract || e.doc)
    lines.push(`  contract: ${e.contract ?? ''}${e.doc ? `${e.contract ? ' — ' : ''}${e.doc}` : ''}`);
  if (e.fieldPath.length > 0) lines.push(`  field:    ${formatFieldPath(e.fieldPath)}`);
  if (e.value !== undefined) lines.push(`  value:    ${e.value}`);
  if (e.span) {
    lines.push(`  --> ${where(e.span, cwd)}`);
    lines.push(...excerpt(e.span).map((l) => `  ${l}`));
  }
  if (e.contractSpan) lines.push(`  contract attached at ${where(e.contractSpan, cwd)}`);
  for (const n of e.notes) lines.push(`  note: ${n}`);
  return lines.join('\n');
}

/** The same information as JSON (for `--json`). */
export function nickelErrorJson(e: NickelError, cwd = process.cwd()): Record<string, unknown> {
  const pos = (s: Span | undefined) =>
    s ? { file: where(s, cwd).replace(/:\d+:\d+$/, ''), line: s.line, column: s.column } : undefined;
  return {
    kind: e.kind,
    message: e.message,
    ...(e.contract ? { contract: e.contract } : {}),
    ...(e.doc ? { doc: e.doc } : {}),
    ...(e.fieldPath.length ? { field_path: formatFieldPath(e.fieldPath), field_path_segments: e.fieldPath } : {}),
    ...(e.value !== undefined ? { value: e.value } : {}),
    ...(e.span ? { position: pos(e.span) } : {}),
    ...(e.contractSpan ? { contract_position: pos(e.contractSpan) } : {}),
    ...(e.notes.length ? { notes: e.notes } : {}),
  };
}
