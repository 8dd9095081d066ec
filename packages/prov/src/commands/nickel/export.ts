import { writeFile } from 'node:fs/promises';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { importPathFlag, ProvCommand } from '../../cli/base.js';
import { engineFor, nickelFailure } from '../../core/nickel.js';

export default class NickelExport extends ProvCommand<typeof NickelExport> {
  static override summary = 'Evaluate a Nickel file and export it as JSON, YAML or TOML';
  static override description =
    'Like `nickel export`: every contract is checked and the whole configuration is computed. A contract violation prints the contract, the field path, the value and the position, and exits 3.';
  static override args = { file: Args.string({ description: 'Nickel file', required: true }) };
  static override flags = {
    format: Flags.string({ description: 'output format', options: ['json', 'yaml', 'toml'], default: 'json' }),
    field: Flags.string({
      description: 'export only this field (dotted path, array elements by index)',
      helpValue: '<path>',
    }),
    'import-path': importPathFlag,
    output: Flags.string({ description: 'write to this file instead of stdout', char: 'o', helpValue: '<file>' }),
  };
  static override examples = [
    '<%= config.bin %> nickel export config.ncl --format yaml',
    '<%= config.bin %> nickel export config.ncl --field servers.0.spec',
    '<%= config.bin %> nickel export config.ncl -I schemas -o config.json',
  ];

  async run() {
    const engine = await engineFor(this.nickel);
    const format = this.flags.format as 'json' | 'yaml' | 'toml';
    let text: string;
    try {
      text = await engine.exportFile(this.args.file, {
        format,
        importPaths: this.importPaths(this.flags['import-path']),
        ...(this.flags.field ? { field: this.flags.field } : {}),
      });
    } catch (e) {
      throw nickelFailure(e);
    }
    if (this.flags.output) {
      await writeFile(this.flags.output, text);
      this.logger.info({ file: this.flags.output, engine: engine.name }, 'exported');
    } else if (!this.jsonEnabled()) process.stdout.write(text);
    return format === 'json' ? JSON.parse(text) : { text };
  }
}
