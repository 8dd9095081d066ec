import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand, show, splitMount } from '../../cli/base.js';

export default class KvGet extends ClientCommand<typeof KvGet> {
  static override summary = 'Read a secret from a KV v2 mount';
  static override args = { path: Args.string({ description: 'secret path, e.g. secret/db', required: true }) };
  static override flags = {
    version: Flags.integer({ description: 'version to read (default: latest)', min: 1 }),
    field: Flags.string({ description: 'print only this field, raw', helpValue: '<name>' }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> kv get secret/db',
    '<%= config.bin %> kv get secret/db --version 2 --json',
    '<%= config.bin %> kv get secret/db --field password',
  ];

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const r = await this.client().kvGet(mount, path, this.flags.version);
    const data = r.data?.data ?? {};
    if (this.flags.field !== undefined) {
      if (!(this.flags.field in data)) throw notFoundError(`no field '${this.flags.field}' in ${this.args.path}`);
      const v = data[this.flags.field];
      if (!this.jsonEnabled()) this.log(typeof v === 'string' ? v : JSON.stringify(v));
      return v;
    }
    if (!this.jsonEnabled()) {
      const md = r.data?.metadata;
      if (md) this.table(Object.fromEntries(Object.entries(md).map(([k, v]) => [k, show(v)])), 'Secret Metadata');
      this.log('');
      this.table(Object.fromEntries(Object.entries(data).map(([k, v]) => [k, show(v)])), 'Data');
    }
    return r;
  }
}
