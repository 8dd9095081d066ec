import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class SecretList extends ClientCommand<typeof SecretList> {
  static override summary = 'List the keys under a path';
  static override aliases = ['list'];
  static override args = { path: Args.string({ description: 'path, e.g. secret/metadata/ or kv/', required: true }) };
  static override examples = [
    '<%= config.bin %> secret list secret/metadata/',
    '<%= config.bin %> secret list kv/ --json',
  ];

  async run() {
    const keys = await this.client().list(this.args.path.replace(/^\/+/, ''));
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
