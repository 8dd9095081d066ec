import * as Args from '@oclif/core/args';
import { ClientCommand, show } from '../../cli/base.js';

export default class LeaseLookup extends ClientCommand<typeof LeaseLookup> {
  static override summary = "Show a lease's issue time, TTL and expiry";
  static override description =
    'A lease whose revocation failed also shows revoke_attempts and revoke_error: svault keeps retrying it.';
  static override args = {
    'lease-id': Args.string({ description: 'lease id, e.g. database/creds/app/Xk2...', required: true }),
  };
  static override examples = ['<%= config.bin %> lease lookup database/creds/app/AbC123...'];

  async run() {
    const r = await this.client().write('sys/leases/lookup', { lease_id: this.args['lease-id'] });
    if (!this.jsonEnabled()) {
      this.table(Object.fromEntries(Object.entries(r?.data ?? {}).map(([k, v]) => [k, show(v)])));
    }
    return r;
  }
}
