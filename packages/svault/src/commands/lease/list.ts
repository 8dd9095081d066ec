import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class LeaseList extends ClientCommand<typeof LeaseList> {
  static override summary = 'List lease ids under a prefix';
  static override description =
    'One level at a time, as Vault lists them: sub-prefixes end with /. Exit code 4 when there is none.';
  static override args = {
    prefix: Args.string({ description: 'lease id prefix, e.g. database/creds/app/ (default: the top level)' }),
  };
  static override examples = ['<%= config.bin %> lease list', '<%= config.bin %> lease list database/creds/app/'];

  async run() {
    const prefix = (this.args.prefix ?? '').replace(/^\/+/, '');
    const keys = await this.client().list(`sys/leases/lookup/${prefix}`);
    if (!this.jsonEnabled()) for (const k of keys) this.log(k);
    return { keys };
  }
}
