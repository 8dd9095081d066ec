import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, show } from '../../cli/base.js';

export default class DatabaseCreds extends ClientCommand<typeof DatabaseCreds> {
  static override summary = 'Create a PostgreSQL login for a role, under a lease';
  static override description =
    'The login is dropped when the lease expires or is revoked, also for leases that expired while svault was down. Same as `svault read database/creds/<role>`.';
  static override args = { role: Args.string({ description: 'role name', required: true }) };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = ['<%= config.bin %> database creds app', '<%= config.bin %> database creds app --json'];

  async run() {
    const r = await this.client().read(`${this.flags.mount}/creds/${this.args.role}`);
    if (!this.jsonEnabled()) {
      this.table({
        lease_id: r?.lease_id,
        lease_duration: `${r?.lease_duration ?? 0}s`,
        lease_renewable: r?.renewable,
        ...Object.fromEntries(Object.entries(r?.data ?? {}).map(([k, v]) => [k, show(v)])),
      });
    }
    return r;
  }
}
