import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';

export default class PkiRoleDelete extends ClientCommand<typeof PkiRoleDelete> {
  static override summary = 'Delete a role (certificates it issued stay valid)';
  static override args = { name: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> pki role delete web'];

  async run() {
    await this.client().delete(`${this.flags.mount}/roles/${this.args.name}`);
    if (!this.jsonEnabled())
      this.log(`Success! Data deleted (if it existed) at: ${this.flags.mount}/roles/${this.args.name}`);
    return { mount: this.flags.mount, role: this.args.name, deleted: true };
  }
}
