import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class DatabaseRoleDelete extends ClientCommand<typeof DatabaseRoleDelete> {
  static override summary =
    'Delete a role (its leases stay, and are revoked with the statements they were issued with)';
  static override args = { name: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database role delete app'];

  async run() {
    const path = `${this.flags.mount}/roles/${this.args.name}`;
    await this.client().delete(path);
    if (!this.jsonEnabled()) this.log(`Success! Data deleted (if it existed) at: ${path}`);
    return { path, deleted: true };
  }
}
