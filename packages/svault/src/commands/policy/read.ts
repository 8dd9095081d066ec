import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class PolicyRead extends ClientCommand<typeof PolicyRead> {
  static override summary = "Print a policy's source (Cedar or Vault HCL/JSON)";
  static override args = { name: Args.string({ description: 'policy name', required: true }) };
  static override examples = ['<%= config.bin %> policy read app-read', '<%= config.bin %> policy read default --json'];

  async run() {
    const p = await this.client().policyRead(this.args.name);
    if (!this.jsonEnabled()) this.log(p.policy.replace(/\n$/, ''));
    return p;
  }
}
