import { Args } from '@oclif/core';
import { StratumError } from '@stratumiops/shared/errors';
import { importPathFlag, ProvCommand } from '../base.js';
import { engineFor, nickelFailure, workspaceConfigs } from '../core/nickel.js';

export default class Validate extends ProvCommand<typeof Validate> {
  static override summary = 'Check configs against the schemas before anything runs';
  static override description =
    'Evaluates each config completely, with every contract of schemas/ applied. Each error names the contract, the field path, the value and file:line:col. Without files, checks the .ncl files of the working directory. Exit 3 when any config is invalid.';
  static override strict = false;
  static override args = { config: Args.string({ description: 'Nickel config files (default: ./*.ncl)' }) };
  static override flags = { 'import-path': importPathFlag };
  static override aliases = ['mcp:validate'];
  static override examples = ['<%= config.bin %> validate', '<%= config.bin %> validate cluster.ncl db.ncl --json'];

  async run() {
    const given = this.positional();
    const files = given.length > 0 ? given : workspaceConfigs();
    const engine = await engineFor(this.nickel);
    const paths = this.importPaths(this.flags['import-path']);
    const results: { file: string; ok: boolean; error?: Record<string, unknown> }[] = [];
    const failures: StratumError[] = [];
    for (const file of files) {
      try {
        await engine.exportFile(file, { format: 'json', importPaths: paths });
        results.push({ file, ok: true });
        if (!this.jsonEnabled()) this.log(`ok    ${file}`);
      } catch (e) {
        const err = nickelFailure(e);
        if (!(err instanceof StratumError)) throw err;
        failures.push(err);
        results.push({ file, ok: false, error: err.details ?? { message: err.message } });
        if (!this.jsonEnabled()) process.stderr.write(`FAIL  ${file}\n${err.display ?? err.message}\n\n`);
      }
    }
    const summary = { files: results, valid: results.length - failures.length, invalid: failures.length };
    if (failures.length === 0) return summary;
    if (files.length === 1 && !this.jsonEnabled()) {
      // One file: its error block was printed; exit 3 without repeating it.
      this.exit(3);
    }
    throw new StratumError('validation', `${failures.length} of ${files.length} config(s) failed validation`, {
      details: summary,
      ...(this.jsonEnabled()
        ? {}
        : { display: `prov: ${failures.length} of ${files.length} config(s) failed validation` }),
    });
  }

  /** All positional arguments (the command is not strict, so several files can be given). */
  private positional(): string[] {
    return this.argv.filter(
      (a, i, all) => !a.startsWith('-') && !(all[i - 1] === '-I' || all[i - 1] === '--import-path'),
    );
  }
}
