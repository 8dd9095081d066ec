import { ServiceRunCommand } from '../../cli/service-command.js';

export default class ServiceInstall extends ServiceRunCommand {
  static override summary = 'Install a service (taskserv) on hosts over SSH';
  static override description =
    'Runs the definition’s install, files, configure, start and health steps on each host (steps whose check passes are skipped, so it is idempotent), records taskserv.<service>.<host> in state, and rolls back (uninstalls) the hosts it completed if one host fails, unless --no-rollback.';
  static override examples = [
    '<%= config.bin %> service install containerd --servers web-01,web-02',
    '<%= config.bin %> service install node_exporter --servers db-1 --set port=9101',
    '<%= config.bin %> service install kubernetes --cluster k8s-prod',
    '<%= config.bin %> service install cilium --cluster k8s-prod --set cli_version=0.16.16',
  ];
  protected readonly operation = 'install';
}
