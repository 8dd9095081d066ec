import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs } from '../../../cli/base.js';

export default class PkiIntermediateGenerate extends ClientCommand<typeof PkiIntermediateGenerate> {
  static override summary = "Generate an intermediate CA's key and print its CSR";
  static override description =
    'The key stays in the vault (unless --exported); sign the CSR with `pki root sign-intermediate` and install the result with `pki intermediate set-signed`. Fields: common_name (required), key_type, key_bits, organization, ou...';
  static override strict = false;
  static override args = {
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed; - reads a JSON object from stdin' }),
  };
  static override flags = {
    exported: Flags.boolean({ description: 'also return the private key, this once' }),
    mount: Flags.string({ description: 'the intermediate PKI mount', default: 'pki_int', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki intermediate generate common_name="Example Issuing CA" key_type=ec > int.csr',
  ];

  async run() {
    const body = parsePairs(this.rest(0));
    const type = this.flags.exported ? 'exported' : 'internal';
    const r = await this.client().write(`${this.flags.mount}/intermediate/generate/${type}`, body);
    if (!this.jsonEnabled()) {
      const d = (r?.data ?? {}) as { csr?: string; private_key?: string };
      this.log([d.csr, d.private_key].filter(Boolean).join('\n'));
    }
    return r;
  }
}
