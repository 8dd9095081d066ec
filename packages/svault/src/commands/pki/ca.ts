import * as Flags from '@oclif/core/flags';
import { notFoundError } from '@stratumiops/shared/errors';
import { ClientCommand } from '../../cli/base.js';

export default class PkiCa extends ClientCommand<typeof PkiCa> {
  static override summary = 'Print the CA certificate (PEM), as served at ca/pem';
  static override flags = {
    chain: Flags.boolean({ description: 'print the whole chain, issuing CA first' }),
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> pki ca > ca.pem', '<%= config.bin %> pki ca --chain --mount pki_int'];

  async run() {
    const r = await this.client().read(`${this.flags.mount}/cert/${this.flags.chain ? 'ca_chain' : 'ca'}`);
    const pem = (r?.data as { certificate?: string } | null)?.certificate ?? '';
    if (!pem) {
      throw notFoundError(`no CA on ${this.flags.mount}/`, {
        hint: `generate one with 'svault pki root generate common_name=... --mount ${this.flags.mount}'`,
      });
    }
    if (!this.jsonEnabled()) this.log(pem);
    return r;
  }
}
