import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { importPathFlag, ProvCommand } from '../../cli/base.js';
import { engineFor, nickelFailure } from '../../core/nickel.js';

export default class NickelCheck extends ProvCommand<typeof NickelCheck> {
  static override summary = 'Check plain data (JSON, YAML, TOML) against a Nickel contract';
  static override description =
    'Applies the contract in the --contract file to the data and evaluates everything. Exit 0 when the data satisfies it, 3 with the field path and the broken contract when it does not.';
  static override args = {
    data: Args.string({ description: 'data file: .json, .yaml, .toml or .ncl', required: true }),
  };
  static override flags = {
    contract: Flags.string({
      description: 'Nickel file whose value is the contract',
      required: true,
      helpValue: '<file>',
    }),
    print: Flags.boolean({ description: 'print the checked value (with the contract defaults filled in)' }),
    'import-path': importPathFlag,
  };
  static override examples = [
    '<%= config.bin %> nickel check server.json --contract schemas/server.ncl',
    '<%= config.bin %> nickel check cluster.yaml --contract schemas/kubernetes.ncl --print',
  ];

  async run() {
    const engine = await engineFor(this.nickel);
    let text: string;
    try {
      text = await engine.checkFile(this.args.data, this.flags.contract, {
        importPaths: this.importPaths(this.flags['import-path']),
      });
    } catch (e) {
      throw nickelFailure(e);
    }
    if (this.flags.print && !this.jsonEnabled()) process.stdout.write(text);
    else this.log(`ok: ${this.args.data} satisfies ${this.flags.contract}`);
    return { ok: true, data: this.args.data, contract: this.flags.contract, value: JSON.parse(text) };
  }
}
