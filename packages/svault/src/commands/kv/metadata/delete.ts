import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, splitMount } from '../../../cli/base.js';

export default class KvMetadataDelete extends ClientCommand<typeof KvMetadataDelete> {
  static override summary = "Delete a secret's metadata and all its versions";
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> kv metadata delete secret/db'];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    await this.client().kvMetadataDelete(mount, path);
    if (!this.jsonEnabled()) this.log(`Deleted ${this.args.path} and all its versions`);
    return { path: this.args.path, deleted: true };
  }
}
