import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class LeaseRenew extends ClientCommand<typeof LeaseRenew> {
  static override summary = 'Extend a lease (never past its max TTL)';
  static override args = { 'lease-id': Args.string({ description: 'lease id', required: true }) };
  static override flags = {
    increment: Flags.string({
      description: 'requested extension from now, e.g. 1h (default: the lease TTL)',
      helpValue: '<duration>',
    }),
  };
  static override examples = ['<%= config.bin %> lease renew database/creds/app/AbC123... --increment 1h'];

  async run() {
    const body: Record<string, unknown> = { lease_id: this.args['lease-id'] };
    if (this.flags.increment !== undefined) body.increment = this.flags.increment;
    const r = await this.client().write('sys/leases/renew', body);
    if (!this.jsonEnabled()) {
      this.table({
        lease_id: r?.lease_id,
        lease_duration: `${r?.lease_duration ?? 0}s`,
        lease_renewable: r?.renewable,
      });
    }
    return r;
  }
}
