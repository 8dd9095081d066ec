import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { StratumError } from '@stratumiops/shared/errors';
import { splitSecretPath, vaultClient } from '../../adapters/vault.js';
import { ProvCommand } from '../../cli/base.js';

export default class VaultRead extends ProvCommand<typeof VaultRead> {
  static override summary = 'Read a secret from svault (KV v2)';
  static override description =
    'Prints the fields of the newest version (or --version N) of the secret; --field prints one value alone, for scripts. The path starts with the mount (secret/myapp). Configs refer to the same value as svault://secret/myapp#field.';
  static override args = {
    path: Args.string({ description: 'secret path, mount first: secret/myapp', required: true }),
  };
  static override flags = {
    field: Flags.string({ description: 'print only this field', helpValue: '<name>' }),
    version: Flags.integer({ description: 'read this version', min: 1 }),
  };
  static override examples = [
    '<%= config.bin %> vault read secret/myapp',
    '<%= config.bin %> vault read secret/myapp --field key',
  ];

  async run() {
    const { mount, path } = splitSecretPath(this.args.path);
    const client = await vaultClient();
    const r = await client.kvGet(mount, path, this.flags.version);
    const data = r.data?.data;
    if (!data) throw new StratumError('notFound', `${mount}/${path} has no data (deleted or destroyed)`);
    if (this.flags.field !== undefined) {
      if (!(this.flags.field in data))
        throw new StratumError('notFound', `${mount}/${path} has no field ${this.flags.field}`, {
          hint: `fields: ${Object.keys(data).join(', ')}`,
        });
      const v = data[this.flags.field];
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      if (!this.jsonEnabled()) this.log(text);
      return text;
    }
    const doc = { path: `${mount}/${path}`, version: r.data?.metadata.version, data };
    if (!this.jsonEnabled()) {
      const w = Math.max(...Object.keys(data).map((k) => k.length), 3);
      this.log(`${mount}/${path} (version ${doc.version})`);
      for (const [k, v] of Object.entries(data))
        this.log(`${k.padEnd(w)}  ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    }
    return doc;
  }
}
