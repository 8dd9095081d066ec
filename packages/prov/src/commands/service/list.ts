import { resolve } from 'node:path';
import { renderTable } from '@stratumiops/shared/output';
import { ProvCommand } from '../../cli/base.js';
import { definitionDirs, listDefinitionFiles } from '../../core/taskserv.js';
import { Runtime } from '../../runtime.js';

export default class ServiceList extends ProvCommand<typeof ServiceList> {
  static override summary = 'List the service definitions and where state records them installed';
  static override aliases = ['service:ls'];
  static override examples = ['<%= config.bin %> service list --json'];

  async run() {
    const s = this.runtimeSettings();
    const runtime = new Runtime(s);
    const store = await this.openStore();
    try {
      const files = listDefinitionFiles(definitionDirs(s.taskservs.dirs.map((d) => resolve(d))));
      const state = (await store.list()).filter((r) => r.kind === 'taskserv');
      const rows = [];
      for (const [name, file] of [...files].sort()) {
        const def = await runtime
          .definition(name)
          .catch((e: Error) => ({ version: '?', description: `invalid: ${e.message}` }));
        const hosts = state.filter((r) => r.attrs.service === name).map((r) => String(r.attrs.host));
        rows.push({
          service: name,
          version: def.version,
          installed_on: hosts.join(',') || '-',
          description: def.description,
          file,
        });
      }
      if (!this.jsonEnabled()) this.log(renderTable(rows, ['service', 'version', 'installed_on', 'description']));
      return { services: rows };
    } finally {
      await runtime.close();
      await store.close();
    }
  }
}
