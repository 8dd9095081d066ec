import { existsSync } from 'node:fs';
import { delimiter, join, resolve } from 'node:path';
import type { DiagnosedExport } from './api.js';
import { NickelError } from './errors.js';
import type { ExportFormat } from './options.js';

export interface ExportOptions {
  format?: ExportFormat;
  importPaths?: string[];
  /** Dotted path of the field to export (`servers.0.spec`), as `nickel export --field`. */
  field?: string;
}

/** What prov and typedialog need from Nickel, whichever engine runs it. */
export interface NickelEngine {
  readonly name: 'builtin' | 'binary';
  /** `nickel export FILE` → the exported text. */
  exportFile(path: string, opts?: ExportOptions): Promise<string>;
  /** Applies the contract in `contractPath` to the data (or Nickel) file `dataPath`; returns the checked value as JSON. */
  checkFile(dataPath: string, contractPath: string, opts?: { importPaths?: string[] }): Promise<string>;
  /**
   * Exports as JSON and reports every independent error (up to `maxErrors`) with the positions of
   * exported values; only the builtin evaluator can (the binary stops at its first error).
   */
  exportDiagnosed?(path: string, opts?: { importPaths?: string[]; maxErrors?: number }): Promise<DiagnosedExport>;
}

export type EngineChoice = 'builtin' | 'auto' | 'binary';

/** The `nickel` binary: NICKEL_BIN, else `nickel` on PATH. */
export function findNickelBinary(env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (env.NICKEL_BIN) return env.NICKEL_BIN;
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'nickel');
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * 'builtin' (default) always uses the TypeScript evaluator; 'auto' uses a real `nickel` binary when
 * NICKEL_BIN is set or one is on PATH; 'binary' requires one.
 */
export async function selectEngine(
  choice: EngineChoice = 'builtin',
  env: NodeJS.ProcessEnv = process.env,
): Promise<NickelEngine> {
  if (choice !== 'builtin') {
    const bin = findNickelBinary(env);
    if (bin) {
      const { BinaryEngine } = await import('./bridge.js');
      return new BinaryEngine(bin);
    }
    if (choice === 'binary') {
      throw new NickelError(
        'ImportError::IoError',
        'no nickel binary: set NICKEL_BIN or put nickel on PATH (or use engine = "builtin")',
      );
    }
  }
  return new BuiltinEngine();
}

export class BuiltinEngine implements NickelEngine {
  readonly name = 'builtin' as const;

  async exportFile(path: string, opts: ExportOptions = {}): Promise<string> {
    const api = await import('./api.js');
    return api.exportSource(api.readSource(path), { ...opts, filename: resolve(path) });
  }

  async exportDiagnosed(
    path: string,
    opts: { importPaths?: string[]; maxErrors?: number } = {},
  ): Promise<DiagnosedExport> {
    const api = await import('./api.js');
    return api.exportDiagnosed(api.readSource(path), { ...opts, filename: resolve(path) });
  }

  async checkFile(dataPath: string, contractPath: string, opts: { importPaths?: string[] } = {}): Promise<string> {
    const api = await import('./api.js');
    return api.checkFiles(resolve(dataPath), resolve(contractPath), opts.importPaths ?? []);
  }
}
