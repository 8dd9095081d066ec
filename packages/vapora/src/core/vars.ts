/** `a.b.c` in nested objects; undefined where the path leaves them (templates of commands and pipelines). */
export function lookupPath(vars: Record<string, unknown>, path: string): unknown {
  let cur: unknown = vars;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}
