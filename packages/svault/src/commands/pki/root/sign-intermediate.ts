import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs } from '../../../cli/base.js';
import { readInput } from '../issue.js';

export default class PkiRootSignIntermediate extends ClientCommand<typeof PkiRootSignIntermediate> {
  static override summary = "Sign an intermediate CA's CSR with the root, print the certificate";
  static override description =
    "Prints the signed certificate followed by the issuing CA: give that bundle to `pki intermediate set-signed` on the intermediate mount. Fields: common_name (default: the CSR's), ttl, max_path_length...";
  static override strict = false;
  static override args = {
    csr: Args.string({ description: 'CSR file (PEM), or - for stdin', required: true }),
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed' }),
  };
  static override flags = {
    mount: Flags.string({ description: 'the mount of the signing CA', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki root sign-intermediate int.csr ttl=43800h > int.pem',
    '<%= config.bin %> pki intermediate generate common_name="Issuing CA" --mount pki_int | <%= config.bin %> pki root sign-intermediate - > int.pem',
  ];

  async run() {
    const body = { ...parsePairs(this.rest(1)), csr: readInput(this.args.csr, 'CSR') };
    const r = await this.client().write(`${this.flags.mount}/root/sign-intermediate`, body);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      const d = (r?.data ?? {}) as { certificate?: string; issuing_ca?: string };
      this.log([d.certificate, d.issuing_ca].filter(Boolean).join('\n'));
    }
    return r;
  }
}
