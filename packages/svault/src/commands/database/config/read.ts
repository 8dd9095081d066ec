import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand, show } from '../../../cli/base.js';

export default class DatabaseConfigRead extends ClientCommand<typeof DatabaseConfigRead> {
  static override summary = 'Show a connection (never its password)';
  static override args = { name: Args.string({ description: 'connection name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database config read pg'];

  async run() {
    const path = `${this.flags.mount}/config/${this.args.name}`;
    const r = await this.client().read(path);
    if (!r?.data) throw notFoundError(`no connection at ${path}`);
    if (!this.jsonEnabled()) this.table(Object.fromEntries(Object.entries(r.data).map(([k, v]) => [k, show(v)])));
    return r;
  }
}
