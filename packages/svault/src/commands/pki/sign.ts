import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand, parsePairs } from '../../cli/base.js';
import { fileFlags, type IssuedData, readInput, summary, writeIssued } from './issue.js';

export default class PkiSign extends ClientCommand<typeof PkiSign> {
  static override summary = 'Sign a CSR with a role (the private key never leaves its owner)';
  static override description =
    "The CSR's names must be allowed by the role, and its key of the role's key_type. Fields: common_name, alt_names, ip_sans (used when the role does not take them from the CSR), ttl.";
  static override strict = false;
  static override args = {
    role: Args.string({ description: 'role name', required: true }),
    csr: Args.string({ description: 'CSR file (PEM), or - for stdin', required: true }),
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed' }),
  };
  static override flags = {
    ...fileFlags,
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki sign web api.csr > api.pem',
    '<%= config.bin %> pki sign web api.csr ttl=24h --cert-file api.pem --chain-file ca.pem',
  ];

  async run() {
    const body = { ...parsePairs(this.rest(2)), csr: readInput(this.args.csr, 'CSR') };
    const r = await this.client().write(`${this.flags.mount}/sign/${this.args.role}`, body);
    const data = r?.data as unknown as IssuedData;
    const files = { cert: this.flags['cert-file'], chain: this.flags['chain-file'] };
    const written = writeIssued(data, files);
    if (!this.jsonEnabled()) {
      for (const w of r?.warnings ?? []) this.warn(w);
      if (!files.cert) this.log(data.certificate);
      if (!files.chain) this.log((data.ca_chain ?? []).join('\n'));
      process.stderr.write(`Signed ${summary(data)}${written.length ? `; wrote ${written.join(', ')}` : ''}\n`);
    }
    return r;
  }
}
