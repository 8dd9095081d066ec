import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class LeaseRevokePrefix extends ClientCommand<typeof LeaseRevokePrefix> {
  static override summary = 'Revoke every lease under a prefix';
  static override description =
    'database/creds/app takes the leases of role app, never those of app2. Same as `svault lease revoke --prefix`.';
  static override args = {
    prefix: Args.string({ description: 'lease id prefix, e.g. database/creds/app', required: true }),
  };
  static override flags = {
    force: Flags.boolean({ description: 'forget leases whose revocation fails (the credentials may live on)' }),
  };
  static override examples = ['<%= config.bin %> lease revoke-prefix database/creds/app'];

  async run() {
    const prefix = this.args.prefix.replace(/^\/+/, '');
    await this.client().write(`sys/leases/${this.flags.force ? 'revoke-force' : 'revoke-prefix'}/${prefix}`, {});
    if (!this.jsonEnabled()) this.log(`Success! Revoked the leases under ${prefix}`);
    return { prefix, revoked: true };
  }
}
