import { existsSync, readdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import {
  type EngineChoice,
  formatFieldPath,
  formatNickelError,
  type NickelEngine,
  NickelError,
  nickelErrorJson,
  type Span,
  selectEngine,
} from '@stratumiops/nickel';
import { assetPath } from '@stratumiops/shared/assets';
import { StratumError, usageError } from '@stratumiops/shared/errors';
import { type CheckContext, checkInfra } from './check.js';
import { desiredResources, type InfraConfig } from './desired.js';
import { CycleError, topoSort } from './graph.js';

export interface NickelSettings {
  engine: EngineChoice;
  import_paths: string[];
}

/** Import folders: flags, then config, then the workspace's schemas/ folder when there is one. */
export function importPaths(settings: NickelSettings, flags: string[] = [], cwd = process.cwd()): string[] {
  const dirs = [...flags, ...settings.import_paths].map((d) => resolve(cwd, d));
  const schemas = join(cwd, 'schemas');
  if (existsSync(schemas) && !dirs.includes(schemas)) dirs.push(schemas);
  // The schemas shipped with prov, so that a workspace anywhere can `import "infrastructure.ncl"`.
  const shipped = assetPath(
    new URL('../../schemas', import.meta.url),
    new URL('../../../../schemas', import.meta.url),
    'infrastructure.ncl',
  );
  if (existsSync(shipped) && !dirs.includes(shipped)) dirs.push(shipped);
  return dirs;
}

export function engineFor(settings: NickelSettings): Promise<NickelEngine> {
  return selectEngine(settings.engine);
}

/**
 * A Nickel failure as a command error: exit 3 for anything wrong with the configuration (syntax,
 * contract, missing field), 4 for a file that does not exist; the readable block for people and the
 * structured error for --json.
 */
export function nickelFailure(e: unknown): unknown {
  if (!(e instanceof NickelError)) return e;
  const missingRoot = e.kind === 'ImportError::IoError' && !e.span;
  const where = e.span ? ` (${e.span.file}:${e.span.line}:${e.span.column})` : '';
  const path = e.fieldPath.length ? ` at ${formatFieldPath(e.fieldPath)}` : '';
  const hint = missingRoot
    ? 'check the path of the config (prov validate FILE.ncl)'
    : e.notes.length && e.kind.startsWith('ConfigError')
      ? e.notes.join('; ')
      : 'fix the config at the position shown, then run prov validate';
  return new StratumError(missingRoot ? 'notFound' : 'validation', `${e.title}${path}${where}`, {
    hint,
    details: nickelErrorJson(e),
    display: formatNickelError(e),
  });
}

/** The configs `prov validate` checks when given none: the .ncl files of the working directory. */
export function workspaceConfigs(cwd = process.cwd()): string[] {
  const files = readdirSync(cwd)
    .filter((f) => f.endsWith('.ncl'))
    .sort()
    .map((f) => join(cwd, f));
  if (files.length === 0) {
    throw usageError(`no .ncl configs in ${cwd === process.cwd() ? 'this folder' : cwd}`, {
      hint: "pass the files to check: 'prov validate cluster.ncl'",
    });
  }
  return files;
}

/** Errors of one config, all of them (capped), in the order of the file. */
export interface ConfigReport {
  /** The JSON export and the config it holds, when the config is valid. */
  json?: string;
  infra?: InfraConfig;
  errors: NickelError[];
  /** Errors past the cap, only counted. */
  omitted: number;
  /** What plan would warn about (parts of the config that are ignored). */
  warnings: string[];
}

const MAX_ERRORS = 50;

/**
 * Everything `plan` checks before it touches state or a provider, in one run: the contracts (every
 * independent violation), then the references between servers, hosts and taskservs, the taskserv
 * definitions and versions, provider settings and dependency cycles. Each error has file:line:col when the
 * builtin evaluator ran (a `nickel` binary stops at its first error and gives no positions of values).
 */
export async function checkConfig(
  engine: NickelEngine,
  file: string,
  importPaths: string[],
  ctx: CheckContext,
): Promise<ConfigReport> {
  let errors: NickelError[] = [];
  let omitted = 0;
  const warnings: string[] = [];
  let json: string | undefined;
  let partial: unknown;
  let locate: ((path: (string | number)[], o?: { literal?: string }) => Span | undefined) | undefined;
  if (engine.exportDiagnosed) {
    const r = await engine.exportDiagnosed(file, { importPaths, maxErrors: MAX_ERRORS });
    errors = r.errors;
    omitted = r.omitted;
    json = r.json;
    partial = r.json !== undefined ? JSON.parse(r.json) : r.partial !== undefined ? JSON.parse(r.partial) : undefined;
    locate = r.locate;
  } else {
    try {
      json = await engine.exportFile(file, { format: 'json', importPaths });
      partial = JSON.parse(json);
    } catch (e) {
      if (!(e instanceof NickelError)) throw e;
      errors.push(e);
    }
  }
  if (partial && typeof partial === 'object') {
    const infra = partial as InfraConfig;
    for (const issue of checkInfra(infra, ctx)) {
      const span = locate?.(issue.path, issue.literal !== undefined ? { literal: issue.literal } : {});
      errors.push(
        new NickelError('ConfigError', issue.message, {
          fieldPath: issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : p)),
          ...(span ? { span } : {}),
          ...(issue.hint ? { notes: [issue.hint] } : {}),
        }),
      );
    }
    if (errors.length === 0) {
      try {
        const { resources, warnings: w } = desiredResources(infra);
        warnings.push(...w);
        topoSort(resources.map((r) => ({ id: r.address, deps: r.deps })));
      } catch (e) {
        if (!(e instanceof StratumError)) throw e;
        errors.push(
          new NickelError(e instanceof CycleError ? 'ConfigError::Cycle' : 'ConfigError', e.message, {
            ...(e.hint ? { notes: [e.hint] } : {}),
          }),
        );
      }
    }
  }
  errors = sortErrors(errors, file);
  if (errors.length > MAX_ERRORS) {
    omitted += errors.length - MAX_ERRORS;
    errors = errors.slice(0, MAX_ERRORS);
  }
  if (errors.length > 0 || json === undefined) return { errors, omitted, warnings };
  return { json, infra: JSON.parse(json) as InfraConfig, errors, omitted, warnings };
}

/** In the order of the config file; errors elsewhere (schemas, imports) and without a position after. */
function sortErrors(errors: NickelError[], file: string): NickelError[] {
  const rank = (e: NickelError) => (!e.span ? 2 : e.span.file === file ? 0 : 1);
  return errors
    .map((e, i) => ({ e, i }))
    .sort((a, b) => {
      const ra = rank(a.e);
      const rb = rank(b.e);
      if (ra !== rb) return ra - rb;
      const sa = a.e.span;
      const sb = b.e.span;
      if (sa && sb && sa.file === sb.file && sa.offset !== sb.offset) return sa.offset - sb.offset;
      return a.i - b.i;
    })
    .map((x) => x.e);
}

/** The readable report of a config's errors: one block each, then how many were left out. */
export function formatConfigErrors(r: ConfigReport, cwd = process.cwd()): string {
  const blocks = r.errors.map((e) => formatNickelError(e, cwd));
  if (r.omitted > 0)
    blocks.push(
      `... and ${r.omitted} more error${r.omitted === 1 ? '' : 's'} (the first ${r.errors.length} are shown)`,
    );
  return blocks.join('\n\n');
}

/** A config's errors as the command error: exit 3, every error in the details and the display. */
export function configFailure(file: string, r: ConfigReport, cwd = process.cwd()): StratumError {
  if (r.errors.length === 1 && r.omitted === 0) return nickelFailure(r.errors[0]) as StratumError;
  const total = r.errors.length + r.omitted;
  const first = r.errors[0];
  return new StratumError(
    'validation',
    `${total} errors in ${relativeTo(cwd, file)}${first ? `; the first: ${first.title}` : ''}`,
    {
      hint: `fix them at the positions shown (prov validate ${relativeTo(cwd, file)} lists them all)`,
      details: { errors: r.errors.map((e) => nickelErrorJson(e, cwd)), omitted: r.omitted },
      display: `${formatConfigErrors(r, cwd)}\n\nprov: ${total} errors in ${relativeTo(cwd, file)}`,
    },
  );
}

function relativeTo(cwd: string, file: string): string {
  const rel = relative(cwd, file);
  return rel && !rel.startsWith('..') ? rel : file;
}
