import { ClientCommand } from '../../../cli/base.js';
import { mountFlag } from '../encrypt.js';

export default class TransitKeyList extends ClientCommand<typeof TransitKeyList> {
  static override summary = 'List transit keys';
  static override aliases = ['transit:keys:list'];
  static override flags = {
    mount: mountFlag,
  };
  static override examples = ['<%= config.bin %> transit key list', '<%= config.bin %> transit key list --json'];

  async run() {
    const keys = await this.client().list(`${this.flags.mount}/keys`);
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
