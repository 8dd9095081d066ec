import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from '@oclif/core/command';
import * as Flags from '@oclif/core/flags';
import { StratumCommand, type ToolSpec } from '@stratumiops/shared/cli/command';
import { type LoadedConfig, loadConfig } from '@stratumiops/shared/config';
import { usageError, validationError } from '@stratumiops/shared/errors';
import { paint, readStdinSync } from '@stratumiops/shared/output';
import { formatProblem, NODE_TYPES, type Problem } from '../core/model.js';
import { App, findGraphDir } from '../runtime.js';
import { type KogralConfig, tool } from '../tool.js';

export const typeFlag = (description = 'only this node type') =>
  Flags.string({ description, options: [...NODE_TYPES] });

export const tagFlag = () =>
  Flags.string({
    description: 'tag (repeatable, or comma-separated; also --tags)',
    multiple: true,
    multipleNonGreedy: true,
    char: 't',
    aliases: ['tags'],
    helpValue: '<tag>',
  });

/** `--tag a --tag b,c` → [a, b, c]. */
export const splitList = (values: string[] | undefined): string[] => [
  ...new Set(
    (values ?? [])
      .flatMap((v) => v.split(','))
      .map((s) => s.trim().replace(/^#/, ''))
      .filter(Boolean),
  ),
];

type GlobalFlags = { config?: string; 'log-level'?: string; 'log-format'?: string };

/**
 * When KOGRAL_DIR (or `dir`) points at a graph elsewhere, that graph's config.toml is the
 * project file, not one found upwards from the working directory.
 */
export function graphSettings(settings: LoadedConfig, spec: ToolSpec, flags: GlobalFlags): LoadedConfig {
  const values = settings.values as KogralConfig;
  if (!values.dir || flags.config) return settings;
  const dir = findGraphDir(values, process.cwd());
  const file = dir ? join(dir, 'config.toml') : undefined;
  if (!file || file === settings.files.project || !existsSync(file)) return settings;
  return loadConfig(spec.config, {
    file,
    flags: [
      { key: 'log.level', flag: 'log-level', value: flags['log-level'] },
      { key: 'log.format', flag: 'log-format', value: flags['log-format'] },
    ],
  });
}

/** Reads a file of at most `max` bytes, never more than max+1 (so /dev/zero stops at once). */
export function readCapped(file: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw usageError(`cannot read ${file}: ${(e as Error).message}`);
  }
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    const buf = Buffer.alloc(1 << 16);
    for (;;) {
      let n: number;
      try {
        n = readSync(fd, buf, 0, buf.length, null);
      } catch (e) {
        throw usageError(`cannot read ${file}: ${(e as Error).message}`);
      }
      if (n === 0) break;
      total += n;
      if (total > max)
        throw validationError(`${file} is over the ${(max / 1048576).toFixed(1)} MB limit of a node: nothing written`, {
          hint: 'split it, or raise import.max_bytes',
        });
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

export abstract class KogralCommand<T extends typeof Command> extends StratumCommand<T> {
  static override tool = tool;
  private appCache?: App;

  protected get config_(): KogralConfig {
    return this.settings.values as KogralConfig;
  }

  override async init(): Promise<void> {
    await super.init();
    this.settings = graphSettings(this.settings, this.tool, this.flags as GlobalFlags);
  }

  /** The graph for this directory, with git auto-commit wired when configured. */
  protected async app(): Promise<App> {
    if (!this.appCache) {
      this.appCache = App.open({
        config: this.config_,
        warn: (m) => this.warnLine(m),
        debug: (fields, m) => this.logDebug(fields, m),
      });
      await this.appCache.withGit();
    }
    return this.appCache;
  }

  protected warnLine(message: string): void {
    process.stderr.write(`${paint('kogral: warning:', 'yellow', process.stderr)} ${message}\n`);
  }

  /** Files that are not readable nodes: one line each on stderr (path:line: message). */
  protected reportProblems(problems: Problem[]): void {
    for (const p of problems) this.warnLine(formatProblem({ ...p, path: this.rel(p.path) }));
  }

  /** A path as the user would type it: relative to the working directory when inside it. */
  protected rel(path: string): string {
    const r = relative(process.cwd(), path);
    return r.startsWith('..') ? path : r;
  }

  /**
   * `--body -` reads stdin; `--body-file f` reads a file, at most import.max_bytes (the limit a
   * node file has): a bigger file (or /dev/zero) is refused before anything is written.
   */
  protected readBody(body: string | undefined, bodyFile: string | undefined): string | undefined {
    if (body !== undefined && bodyFile !== undefined) throw usageError('pass --body or --body-file, not both');
    const max = this.config_.import.max_bytes;
    const check = (text: string, from: string) => {
      if (Buffer.byteLength(text, 'utf8') > max)
        throw validationError(`${from} is over the ${(max / 1048576).toFixed(1)} MB limit of a node: nothing written`, {
          hint: 'split it, or raise import.max_bytes',
        });
      return text;
    };
    if (bodyFile !== undefined && bodyFile !== '-') return readCapped(bodyFile, max);
    if (bodyFile === '-' || body === '-') return check(readStdinSync(), 'stdin');
    return body;
  }

  override async finally(err: Error | undefined): Promise<unknown> {
    this.appCache?.close();
    return super.finally(err);
  }
}
