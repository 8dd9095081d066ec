import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parseVersions, splitMount } from '../../cli/base.js';

export default class KvDestroy extends ClientCommand<typeof KvDestroy> {
  static override summary = 'Permanently destroy versions of a secret';
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    versions: Flags.string({
      description: 'versions to destroy, comma-separated',
      helpValue: '<n,...>',
      required: true,
    }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> kv destroy secret/db --versions 1,2'];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const versions = parseVersions(this.flags.versions);
    await this.client().kvDestroy(mount, path, versions);
    if (!this.jsonEnabled()) this.log(`Destroyed versions ${versions.join(', ')} of ${this.args.path}`);
    return { path: this.args.path, versions };
  }
}
