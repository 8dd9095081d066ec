import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class LeaseRevoke extends ClientCommand<typeof LeaseRevoke> {
  static override summary = 'Revoke a lease now, and the credentials it holds';
  static override description =
    'With --prefix (Vault also spells it -prefix), every lease under the prefix. A revocation the engine fails is an error; the lease stays and svault retries it with backoff (--force drops such leases instead).';
  static override args = {
    'lease-id': Args.string({ description: 'lease id, or a prefix with --prefix', required: true }),
  };
  static override flags = {
    prefix: Flags.boolean({ description: 'revoke every lease under the argument' }),
    force: Flags.boolean({
      description: 'with --prefix: forget leases whose revocation fails (the credentials may live on)',
      dependsOn: ['prefix'],
    }),
  };
  static override examples = [
    '<%= config.bin %> lease revoke database/creds/app/AbC123...',
    '<%= config.bin %> lease revoke -prefix database/creds/app',
  ];

  override async init(): Promise<void> {
    // Vault's CLI writes its flags with one dash.
    this.argv = this.argv.map((a) => (a === '-prefix' || a === '-force' ? `-${a}` : a));
    await super.init();
  }

  async run() {
    const target = this.args['lease-id'].replace(/^\/+/, '');
    const c = this.client();
    if (this.flags.prefix) {
      await c.write(`sys/leases/${this.flags.force ? 'revoke-force' : 'revoke-prefix'}/${target}`, {});
    } else {
      await c.write('sys/leases/revoke', { lease_id: target });
    }
    if (!this.jsonEnabled()) this.log(`Success! Revoked ${this.flags.prefix ? 'the leases under' : 'lease'} ${target}`);
    return { lease_id: target, prefix: this.flags.prefix, revoked: true };
  }
}
