import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { importPathFlag, ProvCommand } from '../../cli/base.js';
import { engineFor, nickelFailure } from '../../core/nickel.js';

export default class NickelEval extends ProvCommand<typeof NickelEval> {
  static override summary = 'Evaluate a Nickel file, or one field of it, and print the value as JSON';
  static override description = 'Only the selected field is computed: other fields that would fail do not matter.';
  static override args = { file: Args.string({ description: 'Nickel file', required: true }) };
  static override flags = {
    field: Flags.string({
      description: 'the field to print (dotted path, array elements by index)',
      helpValue: '<path>',
    }),
    'import-path': importPathFlag,
  };
  static override examples = [
    '<%= config.bin %> nickel eval cluster.ncl',
    '<%= config.bin %> nickel eval cluster.ncl --field servers.0.spec',
  ];

  async run() {
    const engine = await engineFor(this.nickel);
    let text: string;
    try {
      text = await engine.exportFile(this.args.file, {
        format: 'json',
        importPaths: this.importPaths(this.flags['import-path']),
        ...(this.flags.field ? { field: this.flags.field } : {}),
      });
    } catch (e) {
      throw nickelFailure(e);
    }
    if (!this.jsonEnabled()) process.stdout.write(text);
    return JSON.parse(text);
  }
}
