import { ServiceRunCommand } from '../../cli/service-command.js';

export default class ServiceUninstall extends ServiceRunCommand {
  static override summary = 'Uninstall a service (taskserv) from hosts and forget it in state';
  static override description =
    'Runs the definition’s stop and uninstall steps on each host, then removes taskserv.<service>.<host> from state; if a host fails, the hosts already uninstalled are reinstalled unless --no-rollback.';
  static override examples = [
    '<%= config.bin %> service uninstall containerd --servers web-01,web-02',
    '<%= config.bin %> service uninstall etcd --servers db-1',
  ];
  protected readonly operation = 'uninstall';
}
