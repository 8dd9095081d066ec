import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, show, splitMount } from '../../../cli/base.js';

export default class KvMetadataGet extends ClientCommand<typeof KvMetadataGet> {
  static override summary = "Show a secret's metadata: versions, max_versions, custom metadata";
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> kv metadata get secret/db'];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const r = await this.client().kvMetadataGet(mount, path);
    if (!this.jsonEnabled()) {
      const { versions, ...rest } = (r.data ?? {}) as Record<string, unknown>;
      this.table(Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, show(v)])), 'Metadata');
      for (const [v, info] of Object.entries((versions ?? {}) as Record<string, Record<string, unknown>>)) {
        this.log('');
        this.table(Object.fromEntries(Object.entries(info).map(([k, x]) => [k, show(x)])), `Version ${v}`);
      }
    }
    return r;
  }
}
