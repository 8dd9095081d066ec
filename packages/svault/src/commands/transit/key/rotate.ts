import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../../cli/base.js';
import { mountFlag } from '../encrypt.js';

export default class TransitKeyRotate extends ClientCommand<typeof TransitKeyRotate> {
  static override summary = 'Add a new version of a key; new operations use it';
  static override description =
    "Older versions still decrypt and verify until min_decryption_version retires them: move data forward with 'transit rewrap'.";
  static override aliases = ['transit:keys:rotate'];
  static override args = { name: Args.string({ description: 'key name', required: true }) };
  static override flags = {
    mount: mountFlag,
  };
  static override examples = ['<%= config.bin %> transit key rotate payments'];

  async run() {
    const r = await this.client().write(`${this.flags.mount}/keys/${this.args.name}/rotate`, {});
    if (!this.jsonEnabled()) this.log(`Rotated ${this.args.name}: latest version ${r?.data?.latest_version}`);
    return r;
  }
}
