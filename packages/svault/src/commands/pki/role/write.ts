import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../../cli/base.js';

export default class PkiRoleWrite extends ClientCommand<typeof PkiRoleWrite> {
  static override summary = 'Create or replace a role: allowed domains, TTL, key type';
  static override description =
    "Fields as Vault's roles: allowed_domains, allow_subdomains, allow_bare_domains, allow_any_name, allow_localhost, allow_ip_sans, key_type (rsa, ec, ed25519, ml-dsa-65, any), key_bits, ttl, max_ttl, server_flag, client_flag, organization, ou... Unset fields take Vault's defaults.";
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'role name', required: true }),
    fields: Args.string({ description: 'KEY=VALUE pairs, several allowed; - reads a JSON object from stdin' }),
  };
  static override flags = {
    mount: Flags.string({ description: 'the PKI mount', default: 'pki', helpValue: '<path>' }),
  };
  static override examples = [
    '<%= config.bin %> pki role write web allowed_domains=example.com allow_subdomains=true max_ttl=72h',
    '<%= config.bin %> pki role write pq-web allowed_domains=example.com allow_subdomains=true key_type=ml-dsa-65 --mount pki_pq',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    if (Object.keys(body).length === 0) {
      throw usageError('no fields to write', { hint: 'pass KEY=VALUE pairs, e.g. allowed_domains=example.com' });
    }
    await this.client().write(`${this.flags.mount}/roles/${this.args.name}`, body);
    if (!this.jsonEnabled()) this.log(`Success! Data written to: ${this.flags.mount}/roles/${this.args.name}`);
    return { mount: this.flags.mount, role: this.args.name, written: true };
  }
}
