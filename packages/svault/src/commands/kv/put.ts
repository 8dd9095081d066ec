import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs, show, splitMount } from '../../cli/base.js';

export default class KvPut extends ClientCommand<typeof KvPut> {
  static override summary = 'Write a new version of a secret';
  static override strict = false;
  static override args = {
    path: Args.string({ description: 'secret path, e.g. secret/db', required: true }),
    data: Args.string({
      description:
        'KEY=VALUE pairs, several allowed; KEY=@file reads the value from a file, - reads a JSON object from stdin',
    }),
  };
  static override flags = {
    cas: Flags.integer({
      description:
        'check-and-set: write only if the current version is this one (0: only if the secret does not exist)',
      min: 0,
    }),
    mount: Flags.string({ description: 'the mount, when it has more than one segment', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> kv put secret/db user=app password=s3cret',
    '<%= config.bin %> kv put secret/db password=n3w --cas 3',
  ];

  protected patch = false;

  async run() {
    const { mount, path } = splitMount(this.args.path, this.flags.mount);
    const data = parsePairs(this.rest(1));
    if (Object.keys(data).length === 0)
      throw usageError('no data to write', { hint: 'pass KEY=VALUE pairs, or - for JSON on stdin' });
    const c = this.client();
    const r = this.patch
      ? await c.kvPatch(mount, path, data, this.flags.cas)
      : await c.kvPut(mount, path, data, this.flags.cas);
    if (!this.jsonEnabled()) {
      this.table(Object.fromEntries(Object.entries(r.data ?? {}).map(([k, v]) => [k, show(v)])), 'Secret Metadata');
    }
    return r;
  }
}
