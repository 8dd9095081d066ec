import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, responseRows } from '../../../cli/base.js';

export default class PkiRoleRead extends ClientCommand<typeof PkiRoleRead> {
  static override summary = 'Show a role';
  static override args = { name: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> pki role read web'];

  async run() {
    const r = await this.client().read(`${this.flags.mount}/roles/${this.args.name}`);
    if (!this.jsonEnabled()) this.table(responseRows(r));
    return r;
  }
}
