import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type EngineChoice,
  formatFieldPath,
  formatNickelError,
  type NickelEngine,
  NickelError,
  nickelErrorJson,
  selectEngine,
} from '@stratumiops/nickel';
import { StratumError, usageError } from '@stratumiops/shared/errors';

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
  const shipped = fileURLToPath(new URL('../../../../schemas', import.meta.url));
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
  return new StratumError(missingRoot ? 'notFound' : 'validation', `${e.title}${path}${where}`, {
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
    throw usageError('no .ncl configs in this folder', {
      hint: "pass the files to check: 'prov validate cluster.ncl'",
    });
  }
  return files;
}
