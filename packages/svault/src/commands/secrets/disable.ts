import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class SecretsDisable extends ClientCommand<typeof SecretsDisable> {
  static override summary = 'Unmount a secrets engine: its leases are revoked and its data deleted';
  static override args = { path: Args.string({ description: 'the mount path, e.g. transit/', required: true }) };
  static override examples = ['<%= config.bin %> secrets disable transit/'];

  async run() {
    const path = `${this.args.path.replace(/^\/+|\/+$/g, '')}/`;
    await this.client().request('DELETE', `sys/mounts/${path.slice(0, -1)}`);
    if (!this.jsonEnabled()) this.log(`Success! Disabled the secrets engine (if it existed) at: ${path}`);
    return { path, disabled: true };
  }
}
