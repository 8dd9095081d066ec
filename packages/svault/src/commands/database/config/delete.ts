import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class DatabaseConfigDelete extends ClientCommand<typeof DatabaseConfigDelete> {
  static override summary = 'Delete a connection and close its pool';
  static override description =
    'Leases issued through it can no longer be revoked by svault: they stay and are retried (revoke them first).';
  static override args = { name: Args.string({ description: 'connection name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database config delete pg'];

  async run() {
    const path = `${this.flags.mount}/config/${this.args.name}`;
    await this.client().delete(path);
    if (!this.jsonEnabled()) this.log(`Success! Data deleted (if it existed) at: ${path}`);
    return { path, deleted: true };
  }
}
