import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class PkiRoleList extends ClientCommand<typeof PkiRoleList> {
  static override summary = 'List roles';
  static override flags = {
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki role list',
    '<%= config.bin %> pki role list --mount pki_int --json',
  ];

  async run() {
    const keys = await this.client().list(`${this.flags.mount}/roles`);
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
