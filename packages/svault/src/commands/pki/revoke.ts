import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class PkiRevoke extends ClientCommand<typeof PkiRevoke> {
  static override summary = 'Revoke a certificate by serial number (the CRL is rebuilt)';
  static override args = {
    serial: Args.string({
      description:
        'serial number, colon- or hyphen-separated, e.g. 39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58',
      required: true,
    }),
  };
  static override flags = {
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki revoke 39:dd:2e:90:b7:23:1f:8d:d3:7d:31:c5:1b:da:84:d0:5b:65:31:58',
  ];

  async run() {
    const r = await this.client().write(`${this.flags.mount}/revoke`, { serial_number: this.args.serial });
    if (!this.jsonEnabled()) {
      const at = (r?.data as { revocation_time_rfc3339?: string } | null)?.revocation_time_rfc3339;
      this.log(`Revoked ${this.args.serial}${at ? ` at ${at}` : ''}`);
    }
    return r;
  }
}
