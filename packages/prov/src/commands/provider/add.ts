import { existsSync, readFileSync } from 'node:fs';
import * as Args from '@oclif/core/args';
import * as Flags from '@oclif/core/flags';
import { usageError } from '@stratumiops/shared/errors';
import { ProvCommand } from '../../cli/base.js';
import { CREDENTIALS_FROM, ProvidersFile, readProviders, writeProviders } from '../../core/workspace.js';

export default class ProviderAdd extends ProvCommand<typeof ProviderAdd> {
  static override summary = 'Configure a provider and where its credentials come from';
  static override description =
    'Writes .prov/providers.json. lxd: containers on this machine’s LXD, over its unix socket (no credentials). Credentials are never written: aws reads them from the environment/profile (the SDK chain) or from an svault path holding access_key and secret_key; upcloud from UPCLOUD_TOKEN (or UPCLOUD_USERNAME and UPCLOUD_PASSWORD) or an svault path holding token (or username and password).';
  static override args = {
    name: Args.string({
      description: 'provider: aws, upcloud, local or lxd',
      options: ['aws', 'upcloud', 'local', 'lxd'],
      required: true,
    }),
  };
  static override flags = {
    region: Flags.string({ description: 'aws: default region, e.g. eu-west-1' }),
    zone: Flags.string({ description: 'upcloud: default zone, e.g. fi-hel1' }),
    endpoint: Flags.string({
      description: 'aws, upcloud: API endpoint (a compatible or local API; upcloud: with its version, …/1.3)',
      helpValue: '<url>',
    }),
    'from-vault': Flags.string({
      description: 'aws: svault path holding access_key and secret_key; upcloud: token, or username and password',
      helpValue: 'svault://secret/data/aws',
    }),
    'ssh-public-key': Flags.string({
      description:
        'aws, upcloud: public key file (.pub) for the servers’ login user (repeatable; aws imports the first as a key pair)',
      multiple: true,
      multipleNonGreedy: true,
      helpValue: '<file.pub>',
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
    socket: Flags.string({
      description: 'lxd: LXD unix socket (default /var/lib/lxd/unix.socket)',
      helpValue: '<path>',
    }),
    image: Flags.string({
      description: 'lxd: image alias servers are created from (lxc image list)',
      helpValue: '<alias>',
    }),
    'init-cmd': Flags.string({
      description: 'lxd: PID 1 for images without an init system, e.g. "/bin/sleep infinity"',
      helpValue: '<command>',
    }),
    profile: Flags.string({
      description: 'lxd: profiles of new containers (repeatable)',
      multiple: true,
      helpValue: '<name>',
    }),
  };
  static override examples = [
    '<%= config.bin %> provider add aws --region eu-west-1',
    '<%= config.bin %> provider add aws --from-vault svault://secret/data/aws --ssh-public-key ~/.ssh/id_ed25519.pub',
    '<%= config.bin %> provider add upcloud --zone fi-hel1 --ssh-public-key ~/.ssh/id_ed25519.pub',
    '<%= config.bin %> provider add local --hosts hosts.ncl --ssh-key ~/.ssh/id_ed25519',
    '<%= config.bin %> provider add lxd --image debian/12',
  ];

  async run() {
    const p = readProviders();
    const from = this.flags['from-vault'];
    if (from && (!from.startsWith('svault://') || !CREDENTIALS_FROM.test(from)))
      throw usageError('--from-vault takes svault://<mount>/data/<path>', {
        hint: 'e.g. --from-vault svault://secret/data/aws, a secret whose fields hold the keys',
      });
    const keys = this.flags['ssh-public-key'];
    for (const k of keys ?? []) {
      // A private key here would be sent to the cloud as a login key: refuse anything but a public key line.
      if (!existsSync(k) || !/^(ssh|ecdsa|sk)-\S+ \S+/.test(readFileSync(k, 'utf8').trim()))
        throw usageError(`${k} is not a public SSH key file`, {
          hint: 'pass the .pub file, e.g. ~/.ssh/id_ed25519.pub',
        });
    }
    if (this.args.name === 'aws') {
      p.aws = {
        ...(p.aws ?? { credentials: 'env', ssh_keys: [] }),
        ...(this.flags.region ? { region: this.flags.region } : {}),
        ...(this.flags.endpoint ? { endpoint: this.flags.endpoint } : {}),
        ...(from ? { credentials: from } : {}),
        ...(keys ? { ssh_keys: keys } : {}),
      };
    } else if (this.args.name === 'upcloud') {
      p.upcloud = {
        ...(p.upcloud ?? { credentials: 'env', ssh_keys: [] }),
        ...(this.flags.zone ? { zone: this.flags.zone } : {}),
        ...(this.flags.endpoint ? { endpoint: this.flags.endpoint } : {}),
        ...(from ? { credentials: from } : {}),
        ...(keys ? { ssh_keys: keys } : {}),
      };
    } else if (this.args.name === 'lxd') {
      p.lxd = ProvidersFile.shape.lxd.unwrap().parse({
        ...(p.lxd ?? {}),
        ...(this.flags.socket ? { socket: this.flags.socket } : {}),
        ...(this.flags.image ? { image: this.flags.image } : {}),
        ...(this.flags.profile ? { profiles: this.flags.profile } : {}),
        ...(this.flags['init-cmd'] ? { init_cmd: this.flags['init-cmd'] } : {}),
      });
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
    return { provider: this.args.name, settings: p[this.args.name as 'aws' | 'upcloud' | 'local' | 'lxd'] };
  }
}
