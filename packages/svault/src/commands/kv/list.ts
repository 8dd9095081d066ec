import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, splitMount } from '../../cli/base.js';

export default class KvList extends ClientCommand<typeof KvList> {
  static override summary = 'List the secrets under a path';
  static override args = { path: Args.string({ description: 'path, e.g. secret/ or secret/apps/', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> kv list secret/', '<%= config.bin %> kv list secret/apps/ --json'];

  async run() {
    // 'secret/' lists the whole mount: split as if a path followed, then drop it.
    const { mount, path } = splitMount(`${this.args.path.replace(/\/+$/, '')}/.`, this.flags.mount);
    const keys = await this.client().kvList(mount, path.replace(/\.$/, ''));
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
