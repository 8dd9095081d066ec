/**
 * @stratumiops/nickel: a Nickel evaluator in TypeScript, and a bridge to the real
 * `nickel` binary when one is installed.
 */
import type { EvalOptions, ExportFormat } from './options.js';

export { NickelError, type NickelErrorDetails, type NickelErrorKind, type Span } from './errors.js';

export { type EvalMode, type EvalOptions, type ExportFormat, FUNCTION } from './options.js';

/**
 * Evaluates Nickel source. The value comes back as plain JS: records → objects, arrays, numbers,
 * strings, booleans, null, enum tags as `{ tag, arg? }`, functions as `FUNCTION`.
 */
export async function evaluate(source: string, opts: EvalOptions = {}): Promise<unknown> {
  const { evaluateSource } = await import('./api.js');
  return evaluateSource(source, opts);
}

/** Evaluates and exports Nickel source as `nickel export` does (JSON ends with a newline). */
export async function exportSource(
  source: string,
  opts: { filename?: string; format?: ExportFormat; importPaths?: string[]; field?: string } = {},
): Promise<string> {
  const api = await import('./api.js');
  return api.exportSource(source, opts);
}

/** `evaluate` on a file (its directory anchors relative imports). */
export async function evaluateFile(path: string, opts: Omit<EvalOptions, 'filename'> = {}): Promise<unknown> {
  const api = await import('./api.js');
  return api.evaluateSource(api.readSource(path), { ...opts, filename: path });
}

/** `nickel export FILE --format F [--field a.b]`. */
export async function exportFile(
  path: string,
  opts: { format?: ExportFormat; importPaths?: string[]; field?: string } = {},
): Promise<string> {
  const api = await import('./api.js');
  return api.exportSource(api.readSource(path), { ...opts, filename: path });
}

export type { DiagnosedExport } from './api.js';
export { closestName, DEFAULT_MAX_ERRORS, editDistance } from './diagnostics.js';
export { displayPath, formatFieldPath, formatNickelError, nickelErrorJson } from './report.js';

/**
 * Applies a contract to plain data: `contract` is Nickel source or the path of a .ncl file.
 * Resolves to the checked value (defaults filled in), or rejects with a NickelError (kind BlameError).
 */
export async function applyContract(
  value: unknown,
  contract: string,
  opts: { importPaths?: string[] } = {},
): Promise<unknown> {
  const api = await import('./api.js');
  return api.applyContractToValue(value, contract, opts.importPaths ?? []);
}

export { type EngineChoice, type ExportOptions, findNickelBinary, type NickelEngine, selectEngine } from './engine.js';
