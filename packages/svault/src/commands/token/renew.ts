import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class TokenRenew extends ClientCommand<typeof TokenRenew> {
  static override summary = "Extend a token's TTL, up to its max TTL";
  static override args = { token: Args.string({ description: 'token to renew (default: the token in use)' }) };
  static override flags = {
    increment: Flags.string({ description: 'requested extension, e.g. 1h', helpValue: '<duration>' }),
  };
  static override examples = ['<%= config.bin %> token renew', '<%= config.bin %> token renew --increment 2h'];

  async run() {
    const r = await this.client().tokenRenew(this.args.token, this.flags.increment);
    const a = (r.auth ?? {}) as { lease_duration?: number };
    if (!this.jsonEnabled()) this.log(`Renewed: the token now lives ${a.lease_duration ?? 0}s`);
    return r;
  }
}
