import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../../cli/base.js';
import { mountFlag } from '../encrypt.js';

export default class TransitKeyDelete extends ClientCommand<typeof TransitKeyDelete> {
  static override summary = 'Delete a key and all its versions';
  static override description =
    "Refused unless the key's deletion_allowed is set ('transit key config NAME --deletion-allowed'): whatever it encrypted can never be decrypted again.";
  static override aliases = ['transit:keys:delete'];
  static override args = { name: Args.string({ description: 'key name', required: true }) };
  static override flags = {
    mount: mountFlag,
  };
  static override examples = ['<%= config.bin %> transit key delete old-key'];

  async run() {
    await this.client().delete(`${this.flags.mount}/keys/${this.args.name}`);
    if (!this.jsonEnabled()) this.log(`Deleted key ${this.args.name}`);
    return { name: this.args.name, deleted: true };
  }
}
