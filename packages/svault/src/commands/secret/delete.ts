import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class SecretDelete extends ClientCommand<typeof SecretDelete> {
  static override summary = 'Delete data at a path';
  static override aliases = ['delete'];
  static override args = { path: Args.string({ description: 'path, e.g. kv/myapp', required: true }) };
  static override examples = ['<%= config.bin %> secret delete kv/myapp'];

  async run() {
    await this.client().delete(this.args.path.replace(/^\/+/, ''));
    if (!this.jsonEnabled()) this.log(`Success! Data deleted (if it existed) at: ${this.args.path}`);
    return { path: this.args.path, deleted: true };
  }
}
