import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class DatabaseConfigReset extends ClientCommand<typeof DatabaseConfigReset> {
  static override summary = 'Close a connection and open it again from its stored config';
  static override args = { name: Args.string({ description: 'connection name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database config reset pg'];

  async run() {
    const path = `${this.flags.mount}/reset/${this.args.name}`;
    await this.client().write(path, {});
    if (!this.jsonEnabled()) this.log(`Success! Reset connection ${this.args.name}`);
    return { path, reset: true };
  }
}
