/**
 * @stratumiops/nickel: a Nickel evaluator in TypeScript (SPEC.md C6), and a bridge to the real
 * `nickel` binary when one is installed.
 */
export { NickelError, type NickelErrorDetails, type NickelErrorKind, type Span } from './errors.js';

export type EvalMode = 'standard' | 'full' | 'typecheck';

export interface EvalOptions {
  /** Used in error positions and to resolve relative imports (default: '<stdin>' in the working directory). */
  filename?: string;
  /** Extra directories searched for imports, after the importing file's own directory. */
  importPaths?: string[];
  /**
   * 'standard' evaluates to weak head normal form, 'full' deeply (as export does), 'typecheck' runs only
   * the static phase (parse, imports, scope checks) and resolves to true.
   */
  mode?: EvalMode;
}

export type ExportFormat = 'json' | 'yaml' | 'toml' | 'text';

/** Marker for a function value in evaluation results. */
export const FUNCTION = Object.freeze({ function: true as const });

/**
 * Evaluates Nickel source. The value comes back as plain JS: records → objects, arrays, numbers,
 * strings, booleans, null, enum tags as `{ tag, arg? }`, functions as `FUNCTION`.
 */
export async function evaluate(source: string, opts: EvalOptions = {}): Promise<unknown> {
  const { evaluateSource } = await import('./api.js');
  return evaluateSource(source, opts);
}
