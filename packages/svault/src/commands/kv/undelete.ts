import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parseVersions, splitMount } from '../../cli/base.js';

export default class KvUndelete extends ClientCommand<typeof KvUndelete> {
  static override summary = 'Restore soft-deleted versions of a secret';
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    versions: Flags.string({
      description: 'versions to restore, comma-separated',
      helpValue: '<n,...>',
      required: true,
    }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> kv undelete secret/db --versions 3'];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const versions = parseVersions(this.flags.versions);
    await this.client().kvUndelete(mount, path, versions);
    if (!this.jsonEnabled()) this.log(`Restored versions ${versions.join(', ')} of ${this.args.path}`);
    return { path: this.args.path, versions };
  }
}
