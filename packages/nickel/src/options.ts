// Types shared by the entry points (index.ts) and the evaluator behind them (api.ts, engine.ts).

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

export type ExportFormat = 'json' | 'yaml' | 'yaml-documents' | 'toml' | 'text';

/** Marker for a function value in evaluation results. */
export const FUNCTION = Object.freeze({ function: true as const });
