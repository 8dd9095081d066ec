import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../../cli/base.js';
import { readInput } from '../issue.js';

export default class PkiIntermediateSetSigned extends ClientCommand<typeof PkiIntermediateSetSigned> {
  static override summary = 'Install the signed intermediate CA certificate';
  static override description =
    'The certificate must match the key `pki intermediate generate` made; put the issuers after it (what `pki root sign-intermediate` prints) so issued certificates carry the whole chain.';
  static override args = {
    certificate: Args.string({
      description: 'signed certificate (PEM, issuers after it), or - for stdin',
      required: true,
    }),
  };
  static override flags = {
    mount: Flags.string({ description: 'the intermediate PKI mount', default: 'pki_int', helpValue: '<path>' }),
  };
  static override examples = ['<%= config.bin %> pki intermediate set-signed int.pem'];

  async run() {
    const certificate = readInput(this.args.certificate, 'certificate');
    const r = await this.client().write(`${this.flags.mount}/intermediate/set-signed`, { certificate });
    if (!this.jsonEnabled()) this.log(`Success! The intermediate CA is installed on ${this.flags.mount}/`);
    return r ?? { mount: this.flags.mount, installed: true };
  }
}
