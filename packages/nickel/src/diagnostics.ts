import { NickelError } from './errors.js';

/** Errors are capped: past this many, only a count of the rest is kept. */
export const DEFAULT_MAX_ERRORS = 50;

/**
 * Error recovery for an export that reports every independent error: contract violations are
 * recorded here instead of stopping the evaluation, and the walk goes on with the next field. An error
 * met again through a value that depends on it is recorded once.
 */
export class Recovery {
  readonly errors: NickelError[] = [];
  /** Errors past the cap (counted, not kept). */
  omitted = 0;
  private seen = new Set<string>();

  constructor(readonly max = DEFAULT_MAX_ERRORS) {}

  add(e: NickelError): void {
    const s = e.span;
    const key = `${e.kind}\0${e.message}\0${s ? `${s.file}:${s.offset}` : ''}`;
    if (this.seen.has(key)) return;
    this.seen.add(key);
    if (this.errors.length < this.max) this.errors.push(e);
    else this.omitted++;
  }
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions: `memroy` → `memory` is 1). */
export function editDistance(a: string, b: string): number {
  const m = a.length;
  const n = b.length;
  let prev2: number[] = [];
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  for (let i = 1; i <= m; i++) {
    const cur = [i];
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min((prev[j] as number) + 1, (cur[j - 1] as number) + 1, (prev[j - 1] as number) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, (prev2[j - 2] as number) + 1);
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[n] as number;
}

/**
 * The candidate closest to `name`, when it is near enough to be a likely typo (a third of the
 * name's length, at least one edit; case differences are free), else undefined.
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  const limit = Math.max(1, Math.floor(name.length / 3));
  for (const c of candidates) {
    if (c === name) continue;
    const d = c.toLowerCase() === name.toLowerCase() ? 0 : editDistance(name.toLowerCase(), c.toLowerCase());
    if (d <= limit && d < bestD) {
      best = c;
      bestD = d;
    }
  }
  return best;
}

export function isNickelError(e: unknown): e is NickelError {
  return e instanceof NickelError;
}
