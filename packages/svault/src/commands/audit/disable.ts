import * as Args from '@oclif/core/args';
import { ClientCommand } from '../../cli/base.js';

export default class AuditDisable extends ClientCommand<typeof AuditDisable> {
  static override summary = 'Disable an audit device';
  static override description =
    'Works even when the device is broken or hung (otherwise no request could pass). ' +
    'Re-enabling it later gives it a new HMAC key.';
  static override args = { path: Args.string({ description: 'device path, e.g. file/', required: true }) };
  static override examples = ['<%= config.bin %> audit disable file/'];

  async run() {
    await this.client().auditDisable(this.args.path.replace(/^\/+/, ''));
    if (!this.jsonEnabled()) this.log(`Success! Disabled audit device (if it was enabled): ${this.args.path}`);
    return { path: this.args.path };
  }
}
