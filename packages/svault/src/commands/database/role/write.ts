import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../../cli/base.js';

export default class DatabaseRoleWrite extends ClientCommand<typeof DatabaseRoleWrite> {
  static override summary = 'Create or update a role: creation and revocation SQL, TTLs';
  static override description =
    "Vault's fields as KEY=VALUE pairs: db_name (or db), creation_statements, revocation_statements, renew_statements, rollback_statements, default_ttl, max_ttl. Statements use {{name}}, {{password}} and {{expiration}}; each value is quoted for where it stands, so it can never change a statement. Without revocation_statements a revoked login's sessions are ended and its role dropped.";
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'role name', required: true }),
    data: Args.string({ description: 'KEY=VALUE pairs; KEY=@file reads a file, - reads a JSON object from stdin' }),
  };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = [
    `<%= config.bin %> database role write app db=pg creation_statements="CREATE ROLE \\"{{name}}\\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';" default_ttl=1h max_ttl=24h`,
    '<%= config.bin %> database role write app db=pg creation_statements=@create.sql default_ttl=1h',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    if (Object.keys(body).length === 0) {
      throw usageError('nothing to write', {
        hint: 'pass KEY=VALUE pairs, e.g. db=pg creation_statements=@create.sql',
      });
    }
    const path = `${this.flags.mount}/roles/${this.args.name}`;
    const r = await this.client().write(path, body);
    if (!this.jsonEnabled()) this.log(`Success! Data written to: ${path}`);
    return r ?? { path, written: true };
  }
}
