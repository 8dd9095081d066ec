import { splitCamel } from '../ids.js';

/** English function words: dropped from OR queries (they match everything and rank nothing). */
export const STOPWORDS = new Set(
  (
    'a about above after again against all am an and any are as at be because been before being below between both ' +
    'but by can cannot could did do does doing down during each few for from further had has have having he her ' +
    'here hers him his how i if in into is it its itself just me more most my no nor not of off on once only or ' +
    'other our ours out over own same she should so some such than that the their theirs them then there these ' +
    'they this those through to too under until up very was we were what when where which while who whom why will ' +
    'with would you your yours get got getting also via vs etc one ones use used using way ways thing things ' +
    'something someone anything everything many much lot lots really still yet keep keeps kept'
  ).split(' '),
);

/** Words of a text for matching: letters and digits, lowercase; camelCase words also split into parts. */
export function words(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/[\p{L}\p{N}_]+/gu)) {
    const w = m[0];
    out.push(w.toLowerCase());
    // `KubeHpaMaxedOut` also as kube, hpa, maxed, out (the index holds both forms).
    if (/[a-z][A-Z]|[A-Z]{2}[a-z]/.test(w)) for (const p of splitCamel(w).split(' ')) if (p) out.push(p.toLowerCase());
  }
  return out;
}

/** Query words without stop words (all of them when every word is a stop word). */
export function queryTerms(text: string): string[] {
  const all = words(text);
  const kept = all.filter((w) => !STOPWORDS.has(w) && (w.length > 1 || /\d/.test(w)));
  return [...new Set(kept.length > 0 ? kept : all)];
}

/** A term as an FTS5 string: always double-quoted, so no user text is read as FTS5 syntax. */
export const ftsQuote = (term: string): string => `"${term.replaceAll('"', '""')}"`;

/**
 * A safe FTS5 MATCH expression: every term quoted (so `cert-manager`, `C++`, `OR`, `rating::`
 * are plain words), joined by OR; BM25 then ranks documents with more and rarer terms higher.
 * Undefined when the query has no searchable word.
 */
export function orQuery(terms: string[]): string | undefined {
  const t = [...new Set(terms.filter(Boolean))];
  return t.length === 0 ? undefined : t.map(ftsQuote).join(' OR ');
}

/** Camel-split words of a title and a file name, added to what the index matches on (`KubeHpaMaxedOut`). */
export function keyText(parts: (string | undefined)[]): string {
  const out = new Set<string>();
  for (const p of parts) {
    if (!p) continue;
    for (const m of p.matchAll(/[\p{L}\p{N}]+/gu)) {
      const w = m[0];
      const split = splitCamel(w);
      if (split !== w) out.add(split);
    }
  }
  return [...out].join(' ');
}

/** A very light English stemmer for expansion keys (the index itself uses FTS5's porter). */
export function stem(w: string): string {
  if (w.length <= 4) return w;
  for (const [suf, rep] of [
    ['ies', 'y'],
    ['sses', 'ss'],
    ['ing', ''],
    ['ed', ''],
    ['es', ''],
    ['s', ''],
  ] as const) {
    if (w.endsWith(suf) && w.length - suf.length >= 3) return w.slice(0, w.length - suf.length) + rep;
  }
  return w;
}
