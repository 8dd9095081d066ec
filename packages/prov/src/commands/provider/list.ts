import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../../cli/base.js';
import { readProviders } from '../../core/workspace.js';

export default class ProviderList extends ProvCommand<typeof ProviderList> {
  static override summary = 'List configured providers';
  static override aliases = ['provider:ls'];
  static override examples = ['<%= config.bin %> provider list --json'];

  async run() {
    const p = readProviders();
    const rows = [
      ...(p.aws
        ? [
            {
              provider: 'aws',
              settings: `region ${p.aws.region ?? '(config/AWS_REGION)'}${p.aws.endpoint ? `, endpoint ${p.aws.endpoint}` : ''}${p.aws.ssh_keys[0] ? `, key pair from ${p.aws.ssh_keys[0]}` : ''}`,
              credentials: p.aws.credentials,
            },
          ]
        : []),
      ...(p.upcloud
        ? [
            {
              provider: 'upcloud',
              settings: `zone ${p.upcloud.zone ?? '(config region)'}${p.upcloud.endpoint ? `, endpoint ${p.upcloud.endpoint}` : ''}${p.upcloud.ssh_keys.length ? `, ${p.upcloud.ssh_keys.length} login key(s)` : ''}`,
              credentials: p.upcloud.credentials,
            },
          ]
        : []),
      ...(p.lxd
        ? [
            {
              provider: 'lxd',
              settings: `socket ${p.lxd.socket}, image ${p.lxd.image}, profiles ${p.lxd.profiles.join(', ')}${p.lxd.init_cmd ? `, init ${p.lxd.init_cmd}` : ''}`,
              credentials: 'the socket (lxd group)',
            },
          ]
        : []),
      ...(p.local
        ? [
            {
              provider: 'local',
              settings: `${Object.keys(p.local.hosts).length} host(s), files: ${p.local.hosts_files.join(', ') || '-'}`,
              credentials: p.local.key ? `key ${p.local.key}` : 'per host / agent',
            },
          ]
        : []),
    ];
    if (!this.jsonEnabled())
      this.log(rows.length ? renderTable(rows) : 'no providers configured: prov provider add aws|upcloud|local|lxd');
    return { providers: p };
  }
}
