import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class PolicyDelete extends ClientCommand<typeof PolicyDelete> {
  static override summary = 'Delete a policy';
  static override description =
    'Tokens that carry it keep the name but lose what it allowed. ' +
    'The built-in default and root policies cannot be deleted.';
  static override args = { name: Args.string({ description: 'policy name', required: true }) };
  static override examples = ['<%= config.bin %> policy delete app-read'];

  async run() {
    await this.client().policyDelete(this.args.name);
    if (!this.jsonEnabled()) this.log(`Success! Deleted policy: ${this.args.name}`);
    return { name: this.args.name.toLowerCase() };
  }
}
