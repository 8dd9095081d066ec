import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand, show } from '../../../cli/base.js';

export default class DatabaseRoleRead extends ClientCommand<typeof DatabaseRoleRead> {
  static override summary = 'Show a role';
  static override args = { name: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database role read app'];

  async run() {
    const path = `${this.flags.mount}/roles/${this.args.name}`;
    const r = await this.client().read(path);
    if (!r?.data) throw notFoundError(`no role at ${path}`);
    if (!this.jsonEnabled()) this.table(Object.fromEntries(Object.entries(r.data).map(([k, v]) => [k, show(v)])));
    return r;
  }
}
