import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs, responseRows } from '../../../cli/base.js';

export default class PkiRootGenerate extends ClientCommand<typeof PkiRootGenerate> {
  static override summary = 'Generate a self-signed root CA';
  static override description =
    "Fields as Vault's root/generate: common_name (required), ttl, key_type (rsa, ec, ed25519, ml-dsa-65), key_bits, alt_names, ip_sans, max_path_length, organization, ou, country... The private key stays in the vault unless --exported.";
  static override strict = false;
  static override args = {
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed; - reads a JSON object from stdin' }),
  };
  static override flags = {
    exported: Flags.boolean({ description: 'also return the private key, this once' }),
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki root generate common_name=example.com ttl=87600h',
    '<%= config.bin %> pki root generate common_name="Example PQ Root" key_type=ml-dsa-65 --mount pki_pq',
  ];

  async run() {
    const body = parsePairs(this.rest(0));
    const type = this.flags.exported ? 'exported' : 'internal';
    const r = await this.client().write(`${this.flags.mount}/root/generate/${type}`, body);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      this.table(responseRows(r));
    }
    return r;
  }
}
