import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand } from '../../cli/base.js';

export default class PkiCrl extends ClientCommand<typeof PkiCrl> {
  static override summary = 'Print the certificate revocation list (PEM)';
  static override flags = {
    rotate: Flags.boolean({ description: 'rebuild the CRL first' }),
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> pki crl > crl.pem', '<%= config.bin %> pki crl --rotate'];

  async run() {
    const c = this.client();
    if (this.flags.rotate) await c.read(`${this.flags.mount}/crl/rotate`);
    const r = await c.read(`${this.flags.mount}/cert/crl`);
    const pem = (r?.data as { certificate?: string } | null)?.certificate ?? '';
    if (!pem) throw notFoundError(`no CRL on ${this.flags.mount}/: it has no CA yet`);
    if (!this.jsonEnabled()) this.log(pem);
    return r;
  }
}
