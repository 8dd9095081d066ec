import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand, responseRows } from '../../cli/base.js';

export default class SecretRead extends ClientCommand<typeof SecretRead> {
  static override summary = 'Read data at a path';
  static override aliases = ['read'];
  static override description =
    'Any API path under /v1, like `vault read`: for KV v2 give the data path (secret/data/myapp).';
  static override args = {
    path: Args.string({ description: 'path, e.g. secret/data/myapp or kv/myapp', required: true }),
  };
  static override flags = { field: Flags.string({ description: 'print only this field', helpValue: '<name>' }) };
  static override examples = [
    '<%= config.bin %> secret read secret/data/myapp',
    '<%= config.bin %> secret read kv/myapp --field password',
    '<%= config.bin %> read database/creds/app',
  ];

  async run() {
    const r = await this.client().read(this.args.path.replace(/^\/+/, ''));
    const data = (r?.data ?? {}) as Record<string, unknown>;
    if (this.flags.field !== undefined) {
      if (!(this.flags.field in data)) throw notFoundError(`no field '${this.flags.field}' at ${this.args.path}`);
      const v = data[this.flags.field];
      if (!this.jsonEnabled()) this.log(typeof v === 'string' ? v : JSON.stringify(v));
      return v;
    }
    if (!this.jsonEnabled()) this.table(responseRows(r));
    return r;
  }
}
