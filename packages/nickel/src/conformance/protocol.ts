/** Messages between the conformance runner and its workers (worker threads or forked processes). */

export type JobMode = 'standard' | 'full' | 'typecheck';

/** One evaluation to perform in a worker. */
export interface Job {
  kind: 'eval' | 'export';
  /** File to read the source from (absolute, or relative to the worker's working directory). */
  file: string;
  /** Passed as `filename` to the evaluator. */
  filename: string;
  importPaths: string[];
  /** For `eval`. */
  mode?: JobMode;
  /** For `export`: json, yaml, yaml-documents, toml, text. */
  format?: string;
}

/** Expectation fields a NickelError may carry (field, identifier, ident, var...). */
export const ERROR_FIELDS = [
  'field',
  'identifier',
  'ident',
  'var',
  'expected',
  'inferred',
  'row',
  'type_var',
  'row_a',
  'row_b',
  'tail',
  'violating_type',
] as const;

export interface ErrorInfo {
  /** `NickelError.kind`, when the rejection is a NickelError. */
  kind?: string;
  name: string;
  message: string;
  fields: Record<string, string>;
}

export type Outcome =
  /** `evaluate` resolved. */
  | { status: 'value'; isTrue: boolean; preview: string }
  /** `exportSource` resolved. */
  | { status: 'text'; text: string }
  /** The evaluator rejected (or threw). */
  | { status: 'error'; error: ErrorInfo }
  /** The evaluator lacks the needed function (e.g. no `exportSource` yet). */
  | { status: 'unavailable'; message: string }
  /** Timeout, out of memory, worker crash (produced by the runner side). */
  | { status: 'crash'; message: string };

export type ToWorker = { type: 'run'; id: number; job: Job };

export type FromWorker = { type: 'ready'; loadError?: string } | { type: 'result'; id: number; outcome: Outcome };
