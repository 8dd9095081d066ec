import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class DatabaseConfigRotateRoot extends ClientCommand<typeof DatabaseConfigRotateRoot> {
  static override summary = "Change the connection user's password in PostgreSQL; only svault knows the new one";
  static override description =
    'Runs root_rotation_statements (default: ALTER ROLE ... WITH PASSWORD) and stores the new password in the barrier. The old password stops working.';
  static override args = { name: Args.string({ description: 'connection name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database config rotate-root pg'];

  async run() {
    const path = `${this.flags.mount}/rotate-root/${this.args.name}`;
    await this.client().write(path, {});
    if (!this.jsonEnabled()) this.log(`Success! Rotated the root password of connection ${this.args.name}`);
    return { path, rotated: true };
  }
}
