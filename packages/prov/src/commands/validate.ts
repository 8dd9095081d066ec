import { statSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import { nickelErrorJson } from '@stratumiops/nickel';
import { StratumError } from '@stratumiops/shared/errors';
import { importPathFlag, ProvCommand } from '../cli/base.js';
import { checkConfig, engineFor, formatConfigErrors, nickelFailure, workspaceConfigs } from '../core/nickel.js';

interface FileResult {
  file: string;
  ok: boolean;
  /** The first error (as before: one object). */
  error?: Record<string, unknown>;
  /** Every error, in the order of the file (at most 50; `omitted` counts the rest). */
  errors?: Record<string, unknown>[];
  omitted?: number;
  warnings?: string[];
}

export default class Validate extends ProvCommand<typeof Validate> {
  static override summary = 'Check configs against the schemas and everything plan checks, before anything runs';
  static override description =
    "Evaluates each config completely, with every contract of schemas/ applied, then makes plan's checks: servers, hosts and taskservs that are referenced but not declared (with the nearest name), duplicates, depends_on, taskserv definitions and versions, provider settings and dependency cycles. Every error is reported in one run (the first 50, then a count): the contract, the field path, the value and file:line:col with a caret. Without files, checks the .ncl files of the working directory; a folder stands for its .ncl files. Exit 3 when any config is invalid.";
  static override strict = false;
  static override args = { config: Args.string({ description: 'Nickel config files or folders (default: ./*.ncl)' }) };
  static override flags = { 'import-path': importPathFlag };
  static override aliases = ['mcp:validate'];
  static override examples = [
    '<%= config.bin %> validate',
    '<%= config.bin %> validate cluster.ncl db.ncl --json',
    '<%= config.bin %> validate infra/',
  ];

  async run() {
    const given = this.positional();
    // A folder stands for its .ncl files (what prov-gen writes is a folder).
    const files =
      given.length > 0
        ? given.flatMap((g) => (statSync(g, { throwIfNoEntry: false })?.isDirectory() ? workspaceConfigs(g) : [g]))
        : workspaceConfigs();
    const engine = await engineFor(this.nickel);
    const paths = this.importPaths(this.flags['import-path']);
    const ctx = await this.checkContext();
    const results: FileResult[] = [];
    let invalid = 0;
    let errorCount = 0;
    for (const file of files) {
      let report: Awaited<ReturnType<typeof checkConfig>>;
      try {
        report = await checkConfig(engine, file, paths, ctx);
      } catch (e) {
        const err = nickelFailure(e);
        if (!(err instanceof StratumError)) throw err;
        // A file that cannot be read at all: one error.
        results.push({ file, ok: false, error: err.details ?? { message: err.message } });
        invalid++;
        errorCount++;
        if (!this.jsonEnabled()) process.stderr.write(`FAIL  ${file}\n${err.display ?? err.message}\n\n`);
        continue;
      }
      const warnings = report.warnings.length ? { warnings: report.warnings } : {};
      if (report.errors.length === 0) {
        results.push({ file, ok: true, ...warnings });
        if (!this.jsonEnabled()) {
          this.log(`ok    ${file}`);
          for (const w of report.warnings) process.stderr.write(`warning: ${file}: ${w}\n`);
        }
        continue;
      }
      invalid++;
      const n = report.errors.length + report.omitted;
      errorCount += n;
      const errors = report.errors.map((e) => nickelErrorJson(e));
      results.push({ file, ok: false, error: errors[0] as Record<string, unknown>, errors, omitted: report.omitted });
      if (!this.jsonEnabled()) {
        process.stderr.write(`FAIL  ${file}: ${n} error${n === 1 ? '' : 's'}\n${formatConfigErrors(report)}\n\n`);
      }
    }
    const summary = { files: results, valid: results.length - invalid, invalid, errors: errorCount };
    if (invalid === 0) return summary;
    const what = `${errorCount} error${errorCount === 1 ? '' : 's'} in ${invalid} of ${files.length} config(s)`;
    if (files.length === 1 && !this.jsonEnabled()) {
      // One file: its error blocks were printed; exit 3 without repeating them.
      this.exit(3);
    }
    throw new StratumError('validation', `${what}: validation failed`, {
      details: summary,
      hint: 'fix the errors shown with their positions, then run prov validate again',
      ...(this.jsonEnabled() ? {} : { display: `prov: ${what} failed validation` }),
    });
  }

  /** All positional arguments (the command is not strict, so several files can be given). */
  private positional(): string[] {
    return this.argv.filter(
      (a, i, all) => !a.startsWith('-') && !(all[i - 1] === '-I' || all[i - 1] === '--import-path'),
    );
  }
}
