import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parseVersions, splitMount } from '../../cli/base.js';

export default class KvDelete extends ClientCommand<typeof KvDelete> {
  static override summary = 'Soft-delete versions of a secret (undelete restores them)';
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    versions: Flags.string({
      description: 'versions to delete, comma-separated (default: the latest)',
      helpValue: '<n,...>',
    }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> kv delete secret/db',
    '<%= config.bin %> kv delete secret/db --versions 2,3',
  ];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const versions = parseVersions(this.flags.versions);
    await this.client().kvDelete(mount, path, versions);
    if (!this.jsonEnabled())
      this.log(`Deleted ${versions.length ? `versions ${versions.join(', ')} of ` : ''}${this.args.path}`);
    return { path: this.args.path, versions };
  }
}
