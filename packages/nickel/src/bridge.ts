import { resolve } from 'node:path';
import { execa } from 'execa';
import type { ExportOptions, NickelEngine } from './engine.js';
import { NickelError, type Span } from './errors.js';

/** Longest a `nickel` run may take before it is killed. */
const TIMEOUT_MS = 120_000;

interface Diagnostic {
  severity: string;
  message: string;
  notes?: string[];
}

/**
 * The real `nickel` binary, through execa. Output is the binary's own; errors are turned into the
 * same NickelError shape as the built-in evaluator's (kind from the title, field from the backquotes,
 * file:line:col from a second run in text mode, only on failure).
 */
export class BinaryEngine implements NickelEngine {
  readonly name = 'binary' as const;
  constructor(readonly bin: string) {}

  async exportFile(path: string, opts: ExportOptions = {}): Promise<string> {
    const args = ['export', '--format', opts.format ?? 'json'];
    for (const dir of opts.importPaths ?? []) args.push('--import-path', dir);
    if (opts.field) args.push('--field', opts.field);
    args.push(resolve(path));
    return this.run(args);
  }

  async checkFile(dataPath: string, contractPath: string, opts: { importPaths?: string[] } = {}): Promise<string> {
    // Works with every nickel version: a wrapper program on stdin (no file argument: stdin is Nickel).
    const quote = (p: string) => JSON.stringify(resolve(p)).replace(/%\{/g, '\\%{');
    const wrapper = `(import ${quote(dataPath)}) | (import ${quote(contractPath)})\n`;
    const args = ['export', '--format', 'json'];
    for (const dir of opts.importPaths ?? []) args.push('--import-path', dir);
    return this.run(args, wrapper);
  }

  private async run(args: string[], input?: string): Promise<string> {
    const r = await execa(this.bin, ['--color', 'never', '--error-format', 'json', ...args], {
      reject: false,
      timeout: TIMEOUT_MS,
      ...(input !== undefined ? { input } : {}),
    });
    if (r.exitCode === 0) return r.stdout.endsWith('\n') ? r.stdout : `${r.stdout}\n`;
    if (r.timedOut) throw new NickelError('EvalError::Other', `nickel did not finish within ${TIMEOUT_MS / 1000} s`);
    if (r.exitCode === undefined || (r.failed && r.exitCode === null)) {
      throw new NickelError('EvalError::Other', `cannot run ${this.bin}: ${r.shortMessage ?? 'failed to start'}`);
    }
    const diag = parseDiagnostics(String(r.stderr));
    const err = diag
      ? toError(diag)
      : new NickelError('EvalError::Other', firstLine(String(r.stderr)) || `nickel exited ${r.exitCode}`);
    if (diag && input === undefined) {
      // Positions are only in the text format: one more run, paid only on failure.
      const text = await execa(this.bin, ['--color', 'never', ...args], { reject: false, timeout: TIMEOUT_MS });
      const span = parseTextPosition(String(text.stderr));
      if (span) (err as { span?: Span }).span = span;
    }
    throw err;
  }
}

const firstLine = (s: string) =>
  s
    .split('\n')
    .find((l) => l.trim() !== '')
    ?.trim() ?? '';

/** The first Error diagnostic of `--error-format json` output (one JSON document per line on stderr). */
export function parseDiagnostics(stderr: string): Diagnostic | undefined {
  for (const line of stderr.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const doc = JSON.parse(t) as { diagnostics?: Diagnostic[] } | Diagnostic;
      const list = 'diagnostics' in doc && Array.isArray(doc.diagnostics) ? doc.diagnostics : [doc as Diagnostic];
      const e = list.find((d) => d.severity === 'Error');
      if (e) return e;
    } catch {}
  }
  return undefined;
}

const KINDS: [RegExp, string][] = [
  [/^contract broken/, 'EvalError::BlameError'],
  [/^missing definition for/, 'EvalError::MissingFieldDef'],
  [/^missing field/, 'EvalError::FieldMissing'],
  [/^unbound identifier/, 'TypecheckError::UnboundIdentifier'],
  [/^infinite recursion/, 'EvalError::InfiniteRecursion'],
  [/^non mergeable terms/, 'EvalError::MergeIncompatibleArgs'],
  [/^unmatched pattern/, 'EvalError::NonExhaustiveMatch'],
  [/^destructuring failed/, 'EvalError::FailedDestructuring'],
  [/^cannot compare values for equality/, 'EvalError::IncomparableValues'],
  [/^non serializable term/, 'EvalError::NonSerializable'],
  [/^(unexpected token|unexpected end of file|parse error)/i, 'ParseError'],
  [/^import of .* failed/, 'ImportError::IoError'],
];

/** Maps a binary's diagnostic to the NickelError shape of the built-in evaluator. */
export function toError(d: Diagnostic): NickelError {
  const [title = '', ...rest] = d.message.split(/\n\s{2,}/);
  const kind = KINDS.find(([re]) => re.test(title))?.[1] ?? 'EvalError::Other';
  const field = /`([^`]+)`/.exec(title)?.[1];
  const custom = rest.join(' ').trim();
  return new NickelError(kind, custom ? `${title}: ${custom}` : title, {
    title: custom ? `${title}: ${custom}` : title,
    notes: d.notes ?? [],
    ...(field && kind !== 'TypecheckError::UnboundIdentifier' ? { field } : {}),
    ...(field && kind === 'TypecheckError::UnboundIdentifier' ? { identifier: field } : {}),
    ...(field && kind === 'EvalError::BlameError' ? { fieldPath: [field] } : {}),
  });
}

/** `┌─ path:line:col` after the first `error:` of the text format. */
export function parseTextPosition(stderr: string): Span | undefined {
  const at = stderr.indexOf('error');
  const m = /┌─ (.+):(\d+):(\d+)/.exec(at >= 0 ? stderr.slice(at) : stderr);
  if (!m) return undefined;
  const line = Number(m[2]);
  const column = Number(m[3]);
  return { file: m[1] as string, line, column, offset: 0, end: 0 };
}
