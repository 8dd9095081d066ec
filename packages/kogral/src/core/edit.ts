/**
 * Editing a node's markdown body in place: append, prepend, find-replace and replace a
 * section. Pure functions: the caller (Kogral.edit) reads and writes under the graph lock. Any
 * edit that cannot apply exactly as asked throws and changes nothing.
 */
import { conflictError, notFoundError, usageError } from '@stratumiops/shared/errors';
import { slugify } from './ids.js';

export const EDIT_OPERATIONS = ['append', 'prepend', 'find_replace', 'replace_section'] as const;
export type EditOperation = (typeof EDIT_OPERATIONS)[number];

export type EditOp =
  | { op: 'append'; text: string }
  | { op: 'prepend'; text: string }
  /** Replaces every occurrence of `find`; refused unless it occurs exactly `expected` times (default 1). */
  | { op: 'find_replace'; find: string; replace: string; expected?: number }
  /** Replaces the content under the heading named `section` (any level), up to the next heading of the same or a higher level. */
  | { op: 'replace_section'; section: string; text: string };

export interface Heading {
  /** 0-based line index. */
  line: number;
  level: number;
  text: string;
}

/** The markdown headings of a body, outside fenced code blocks. */
export function headings(body: string): Heading[] {
  const out: Heading[] = [];
  let fence: string | undefined;
  body.split('\n').forEach((raw, i) => {
    const line = raw.replace(/\r$/, '');
    const f = /^\s{0,3}(`{3,}|~{3,})/.exec(line);
    if (f) {
      const mark = (f[1] as string)[0] as string;
      if (!fence) fence = mark;
      else if (fence === mark) fence = undefined;
      return;
    }
    if (fence) return;
    const h = /^\s{0,3}(#{1,6})[ \t]+(.*?)[ \t]*#*[ \t]*$/.exec(line);
    if (h) out.push({ line: i, level: (h[1] as string).length, text: (h[2] as string).trim() });
  });
  return out;
}

const sectionKey = (s: string) => slugify(s.replace(/^\s*#+\s*/, ''), 200);

const occurrences = (hay: string, needle: string): number => hay.split(needle).length - 1;

function nonEmpty(text: string, what: string): string {
  const t = text.replace(/^\s*\n/, '').replace(/\s+$/, '');
  if (!t.trim()) throw usageError(`the text to ${what} is empty`, { hint: 'pass --body, --body-file or content' });
  return t;
}

/** The body after one edit; throws (usage, not found, conflict) when the edit cannot apply exactly. */
export function applyEdit(body: string, e: EditOp): string {
  switch (e.op) {
    case 'append': {
      const t = nonEmpty(e.text, 'append');
      const base = body.replace(/\s+$/, '');
      return base ? `${base}\n\n${t}\n` : `${t}\n`;
    }
    case 'prepend': {
      const t = nonEmpty(e.text, 'prepend');
      // After the title heading when the body starts with one: the note still reads "# Title" first.
      const m = /^(\s*#[ \t]+[^\n]*\n)\s*/.exec(body);
      if (m) return `${`${m[1]}\n${t}\n\n${body.slice(m[0].length)}`.trimEnd()}\n`;
      return `${`${t}\n\n${body.replace(/^\s+/, '')}`.trimEnd()}\n`;
    }
    case 'find_replace': {
      if (!e.find) throw usageError('the text to find is empty', { hint: 'pass --find TEXT' });
      const expected = e.expected ?? 1;
      if (!Number.isInteger(expected) || expected < 1)
        throw usageError(`expected replacements must be a whole number from 1, not ${expected}`);
      const n = occurrences(body, e.find);
      if (n === 0) throw notFoundError(`the text ${JSON.stringify(clip(e.find))} is not in the node`);
      if (n !== expected)
        throw conflictError(
          `the text ${JSON.stringify(clip(e.find))} occurs ${n} times, not ${expected}: nothing replaced`,
          { hint: `pass --count ${n} (expected_replacements: ${n}) to replace all, or find a longer text` },
        );
      return body.split(e.find).join(e.replace);
    }
    case 'replace_section': {
      if (!e.section.replace(/^\s*#+/, '').trim()) throw usageError('the section name is empty');
      const key = sectionKey(e.section);
      const hs = headings(body);
      const hits = hs.filter((h) => sectionKey(h.text) === key);
      if (hits.length === 0)
        throw notFoundError(`no section '${e.section.trim()}' in the node`, {
          hint: hs.length
            ? `its sections: ${hs.map((h) => h.text).join(', ')}`
            : 'it has no headings; use append instead',
        });
      if (hits.length > 1)
        throw conflictError(`${hits.length} sections are called '${e.section.trim()}': nothing replaced`, {
          hint: 'edit the node with find-replace instead',
        });
      const h = hits[0] as Heading;
      const next = hs.find((x) => x.line > h.line && x.level <= h.level);
      const lines = body.split('\n');
      let text = e.text.replace(/\s+$/, '');
      // Content that repeats the heading itself replaces the heading line too.
      const first = headings(text)[0];
      let start = h.line + 1;
      if (first && first.line === 0 && sectionKey(first.text) === key) {
        start = h.line;
        text = text.replace(/^\s+/, '');
      }
      const before = lines.slice(0, start);
      const after = next ? lines.slice(next.line) : [];
      const middle = start === h.line ? [text] : ['', ...(text.trim() ? [text.replace(/^\s*\n/, '')] : [])];
      const out = [...before, ...middle, ...(after.length ? ['', ...after] : [])].join('\n');
      return `${out.replace(/\s+$/, '')}\n`;
    }
  }
}

const clip = (s: string) => (s.length > 60 ? `${s.slice(0, 57)}...` : s);

/**
 * Rewrites the [[wikilinks]] of a body that name `oldName` (case-insensitively, or by its slug)
 * to `newName`, keeping `#anchor` and `|label`. Returns the body and how many links changed.
 */
export function renameWikilinks(body: string, oldName: string, newName: string): { body: string; count: number } {
  const oldKey = oldName.trim().toLowerCase();
  const oldSlug = slugify(oldName, 200);
  let count = 0;
  const out = body.replace(/(!?)\[\[([^[\]\n]+?)\]\]/g, (all, bang: string, inner: string) => {
    const bar = inner.indexOf('|');
    const targetPart = bar < 0 ? inner : inner.slice(0, bar);
    const label = bar < 0 ? '' : inner.slice(bar);
    const hash = targetPart.indexOf('#');
    const name = (hash < 0 ? targetPart : targetPart.slice(0, hash)).trim();
    const anchor = hash < 0 ? '' : targetPart.slice(hash);
    if (!name || (name.toLowerCase() !== oldKey && slugify(name, 200) !== oldSlug)) return all;
    count++;
    return `${bang}[[${newName}${anchor}${label}]]`;
  });
  return { body: out, count };
}
