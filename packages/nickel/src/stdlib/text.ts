import { evalError } from '../values.js';

// Strings as Nickel sees them: grapheme clusters (a match never cuts one apart), Rust-dialect regular expressions.

// Made on first use: loading ICU's segmentation data costs a command's start-up several ms, and
// most strings are plain ASCII, where every character is a cluster.
let segmenter: Intl.Segmenter | undefined;
const segments = (s: string) => {
  segmenter ??= new Intl.Segmenter('en', { granularity: 'grapheme' });
  return segmenter.segment(s);
};

/** Printable ASCII without CR (CR LF is one cluster): every position is a cluster boundary. */
const simple = (s: string) => /^[\x20-\x7e\t\n]*$/.test(s);

export const graphemes = (s: string): string[] => (simple(s) ? s.split('') : Array.from(segments(s), (x) => x.segment));

/** UTF-16 offsets where grapheme clusters start (and the end): matches may not cut a cluster. */
const ALL_BOUNDARIES = { has: () => true } as unknown as Set<number>;

function clusterBounds(s: string): Set<number> {
  if (simple(s)) return ALL_BOUNDARIES;
  const b = new Set<number>([s.length]);
  for (const seg of segments(s)) b.add(seg.index);
  return b;
}

const globalVariants = new WeakMap<RegExp, RegExp>();
const globalOf = (re: RegExp): RegExp => {
  let g = globalVariants.get(re);
  if (!g) {
    g = re.flags.includes('g') ? re : new RegExp(re.source, `${re.flags}g`);
    globalVariants.set(re, g);
  }
  return g;
};

/** Occurrences of `sub` that start and end on cluster boundaries. */
export function substringMatches(s: string, sub: string): number[] {
  if (sub === '') return [...Array.from(segments(s), (x) => x.index), s.length];
  const b = clusterBounds(s);
  const out: number[] = [];
  for (let i = s.indexOf(sub); i >= 0; i = s.indexOf(sub, i + 1)) {
    if (b.has(i) && b.has(i + sub.length)) {
      out.push(i);
      i += sub.length - 1;
    }
  }
  return out;
}

/** Regex matches (global) that start and end on cluster boundaries. */
export function regexMatches(s: string, re: RegExp, first = false): RegExpExecArray[] {
  const b = clusterBounds(s);
  const g = globalOf(re);
  const out: RegExpExecArray[] = [];
  let from = 0;
  while (from <= s.length) {
    g.lastIndex = from;
    const m = g.exec(s);
    if (!m) break;
    if (b.has(m.index) && b.has(m.index + m[0].length)) {
      out.push(m);
      if (first) break;
      from = m[0].length === 0 ? m.index + 1 : m.index + m[0].length;
    } else from = m.index + 1;
  }
  return out;
}

export function replaceAt(s: string, matches: { index: number; length: number }[], rep: string): string {
  let out = '';
  let last = 0;
  for (const m of matches) {
    out += s.slice(last, m.index) + rep;
    last = m.index + m.length;
  }
  return out + s.slice(last);
}

const regexCache = new Map<string, RegExp>();

/** A Rust-dialect pattern as a JS RegExp (cached); an invalid one is an error naming the function. */
export function regex(name: string, src: string, flags = 'u'): RegExp {
  const key = `${flags}:${src}`;
  let re = regexCache.get(key);
  if (!re) {
    const js = src
      .replace(/\(\?P</g, '(?<')
      .replace(/\\d/g, '\\p{Nd}')
      .replace(/\\w/g, '[\\p{L}\\p{N}_\\p{M}\\p{Pc}]')
      .replace(/\\([^A-Za-z0-9\s^$\\.*+?()[\]{}|/-])/g, '$1')
      .replace(/\\A/g, '^')
      .replace(/\\z/g, '$');
    try {
      re = new RegExp(js, flags);
    } catch (e) {
      return evalError('EvalError::Other', `${name}: invalid regular expression: ${(e as Error).message}`);
    }
    if (regexCache.size >= 1000) regexCache.clear();
    regexCache.set(key, re);
  }
  return re;
}

/** Grapheme index of a UTF-16 offset. */
export const graphemeIndex = (s: string, offset: number): number => graphemes(s.slice(0, offset)).length;

/** Splits on `sep` without cutting clusters apart; an empty last piece is dropped (Rust's split_terminator). */
export function splitGraphemeSafe(s: string, sep: string): string[] {
  const parts = splitAt(s, sep);
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

function splitAt(s: string, sep: string): string[] {
  if (sep === '') return graphemes(s);
  const parts = s.split(sep);
  // A separator that matched inside a cluster (e.g. a combining mark) must not split it.
  if (parts.length === 1) return parts;
  const g = graphemes(s);
  const boundaries = new Set<number>();
  let off = 0;
  for (const c of g) {
    boundaries.add(off);
    off += c.length;
  }
  boundaries.add(off);
  const out: string[] = [];
  let start = 0;
  let from = 0;
  for (;;) {
    const i = s.indexOf(sep, from);
    if (i < 0) break;
    if (boundaries.has(i) && boundaries.has(i + sep.length)) {
      out.push(s.slice(start, i));
      start = i + sep.length;
      from = start;
    } else from = i + 1;
  }
  out.push(s.slice(start));
  return out;
}
