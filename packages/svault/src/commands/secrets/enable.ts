import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { ClientCommand } from '../../cli/base.js';

export default class SecretsEnable extends ClientCommand<typeof SecretsEnable> {
  static override summary = 'Mount a secrets engine (kv, transit, pki, database)';
  static override description =
    'Like `vault secrets enable`: the engine is mounted at --path (default: its type) and answers under /v1/<path>/.';
  static override args = {
    type: Args.string({ description: 'engine type: kv, kv-v2, transit, pki or database', required: true }),
  };
  static override flags = {
    path: Flags.string({ description: 'where to mount it (default: the type)', helpValue: '<path>' }),
    version: Flags.integer({ description: 'KV version (1 or 2)', min: 1, max: 2 }),
    description: Flags.string({ description: 'a human note shown by `secrets list`' }),
    'default-lease-ttl': Flags.string({ description: 'default lease TTL of its secrets, e.g. 1h', helpValue: '<ttl>' }),
    'max-lease-ttl': Flags.string({ description: 'maximum lease TTL of its secrets, e.g. 24h', helpValue: '<ttl>' }),
  };
  static override examples = [
    '<%= config.bin %> secrets enable transit',
    '<%= config.bin %> secrets enable --path=kv --version=1 kv',
    '<%= config.bin %> secrets enable --path=db --max-lease-ttl=24h database',
  ];

  async run() {
    const { type } = this.args;
    const f = this.flags;
    const path = `${(f.path ?? type).replace(/^\/+|\/+$/g, '')}/`;
    const config = {
      ...(f['default-lease-ttl'] ? { default_lease_ttl: f['default-lease-ttl'] } : {}),
      ...(f['max-lease-ttl'] ? { max_lease_ttl: f['max-lease-ttl'] } : {}),
    };
    await this.client().request('POST', `sys/mounts/${path.slice(0, -1)}`, {
      body: {
        type,
        ...(f.description ? { description: f.description } : {}),
        ...(f.version ? { options: { version: String(f.version) } } : {}),
        ...(Object.keys(config).length ? { config } : {}),
      },
    });
    if (!this.jsonEnabled()) this.log(`Success! Enabled the ${type} secrets engine at: ${path}`);
    return { path, type };
  }
}
