import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ClientCommand, parsePairs } from '../../../cli/base.js';

export default class DatabaseConfigWrite extends ClientCommand<typeof DatabaseConfigWrite> {
  static override summary = 'Configure a PostgreSQL connection';
  static override description =
    "Vault's fields as KEY=VALUE pairs: plugin_name (or plugin=postgresql), connection_url with {{username}} and {{password}}, username, password, allowed_roles (default: all), verify_connection (default true: connects once before saving), max_open_connections. The password stays in the barrier: a read never shows it.";
  static override strict = false;
  static override args = {
    name: Args.string({ description: 'connection name', required: true }),
    data: Args.string({ description: 'KEY=VALUE pairs; KEY=@file reads a file, - reads a JSON object from stdin' }),
  };
  static override flags = {
    mount: Flags.string({ description: 'where the database engine is mounted', default: 'database' }),
  };
  static override examples = [
    `<%= config.bin %> database config write pg plugin=postgresql connection_url='postgresql://{{username}}:{{password}}@127.0.0.1:5432/app' username=svault password=s3cret`,
    '<%= config.bin %> database config write pg allowed_roles=app,report',
  ];

  async run() {
    const body = parsePairs(this.rest(1));
    if (Object.keys(body).length === 0) {
      throw usageError('nothing to write', { hint: 'pass KEY=VALUE pairs, e.g. plugin=postgresql connection_url=...' });
    }
    const path = `${this.flags.mount}/config/${this.args.name}`;
    const r = await this.client().write(path, body);
    if (!this.jsonEnabled()) this.log(`Success! Data written to: ${path}`);
    return r ?? { path, written: true };
  }
}
