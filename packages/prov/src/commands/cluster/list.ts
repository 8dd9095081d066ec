import { renderTable } from '@stratumiops/shared/output';
import { ClusterCommand } from '../../cli/cluster.js';
import { ClusterStore, listTemplates } from '../../core/cluster.js';

export default class ClusterList extends ClusterCommand<typeof ClusterList> {
  static override summary = 'List cluster templates and the clusters of this workspace';
  static override description =
    'Templates are Nickel functions in templates/clusters/<name>/template.ncl (plus the folders in prov.toml clusters.template_dirs); clusters are those of this workspace’s state (made with prov cluster create, or declared in prov.ncl and applied); one whose create is running or was interrupted shows status creating.';
  static override aliases = ['cluster:ls'];
  static override examples = ['<%= config.bin %> cluster list', '<%= config.bin %> cluster list --json'];

  async run() {
    const templates = listTemplates(this.templateDirs()).map((t) => ({ name: t.name, description: t.description }));
    const clusters = (await ClusterStore.forWorkspace(() => this.openStore()).list()).map((c) => ({
      name: c.name,
      template: c.template,
      kind: c.spec.kind,
      version: c.spec.version,
      members: [...new Set(c.spec.services.map((s) => s.host))],
      // A create still running, or interrupted (prov resume continues it).
      ...(c.status ? { status: c.status } : {}),
    }));
    if (!this.jsonEnabled()) {
      this.log('Templates:');
      this.log(renderTable(templates));
      this.log('\nClusters:');
      this.log(
        clusters.length
          ? renderTable(clusters.map((c) => ({ ...c, members: c.members.join(',') })))
          : '(none: prov cluster create NAME --template T --servers a,b,c)',
      );
    }
    return { templates, clusters };
  }
}
