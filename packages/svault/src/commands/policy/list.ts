import { ClientCommand } from '../../cli/base.js';

export default class PolicyList extends ClientCommand<typeof PolicyList> {
  static override summary = 'List policies';
  static override examples = ['<%= config.bin %> policy list', '<%= config.bin %> policy list --json'];

  async run() {
    const keys = await this.client().policyList();
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
