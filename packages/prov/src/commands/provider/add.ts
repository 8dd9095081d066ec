import { Args, Flags } from '@oclif/core';
import { usageError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../base.js';

export default class ProviderAdd extends ProvCommand<typeof ProviderAdd> {
  static override summary = 'Configure a provider and where its credentials come from';
  static override description =
    'Writes .prov/providers.json. Credentials are never written: aws reads them from the environment/profile (the SDK chain) or from an svault path holding access_key and secret_key.';
  static override args = {
    name: Args.string({ description: 'provider: aws or local', options: ['aws', 'local'], required: true }),
  };
  static override flags = {
    region: Flags.string({ description: 'aws: default region, e.g. eu-west-1' }),
    endpoint: Flags.string({ description: 'aws: API endpoint (a compatible or local EC2 API)', helpValue: '<url>' }),
    'from-vault': Flags.string({
      description: 'aws: svault path holding access_key and secret_key',
      helpValue: 'svault://secret/data/aws',
    }),
    hosts: Flags.string({
      description: 'local: a Nickel hosts file (schemas/hosts.ncl), repeatable',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<hosts.ncl>',
    }),
    host: Flags.string({
      description: 'local: name=user@host[:port] (repeatable)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<name=user@host>',
    }),
    'ssh-key': Flags.string({ description: 'local: private key for hosts that name none', helpValue: '<file>' }),
  };
  static override examples = [
    '<%= config.bin %> provider add aws --region eu-west-1',
    '<%= config.bin %> provider add aws --from-vault svault://secret/data/aws',
    '<%= config.bin %> provider add local --hosts hosts.ncl --ssh-key ~/.ssh/id_ed25519',
  ];

  async run() {
    const { readProviders, writeProviders } = await import('../../core/workspace.js');
    const p = readProviders();
    if (this.args.name === 'aws') {
      const from = this.flags['from-vault'];
      if (from && !from.startsWith('svault://')) throw usageError('--from-vault takes svault://<mount>/data/<path>');
      p.aws = {
        ...(p.aws ?? { credentials: 'env' }),
        ...(this.flags.region ? { region: this.flags.region } : {}),
        ...(this.flags.endpoint ? { endpoint: this.flags.endpoint } : {}),
        ...(from ? { credentials: from } : {}),
      };
    } else {
      const hosts = { ...(p.local?.hosts ?? {}) };
      for (const h of this.flags.host ?? []) {
        const [name, spec] = h.split('=');
        if (!name || !spec) throw usageError(`--host takes name=user@host[:port], got ${h}`);
        hosts[name] = spec;
      }
      p.local = {
        hosts_files: [...new Set([...(p.local?.hosts_files ?? []), ...(this.flags.hosts ?? [])])],
        hosts,
        ...(this.flags['ssh-key'] ? { key: this.flags['ssh-key'] } : p.local?.key ? { key: p.local.key } : {}),
      };
    }
    writeProviders(p);
    if (!this.jsonEnabled())
      this.log(
        `Provider ${this.args.name} configured in .prov/providers.json; check it with prov provider test ${this.args.name}.`,
      );
    return { provider: this.args.name, settings: p[this.args.name as 'aws' | 'local'] };
  }
}
