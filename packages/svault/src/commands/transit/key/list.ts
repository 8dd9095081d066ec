import { Flags } from '@oclif/core';
import { ClientCommand } from '../../../cli/base.js';

export default class TransitKeyList extends ClientCommand<typeof TransitKeyList> {
  static override summary = 'List transit keys';
  static override aliases = ['transit:keys:list'];
  static override flags = {
    mount: Flags.string({ description: 'the transit mount', default: 'transit', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> transit key list', '<%= config.bin %> transit key list --json'];

  async run() {
    const keys = await this.client().list(`${this.flags.mount}/keys`);
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
