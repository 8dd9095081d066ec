import { renderTable } from '@stratumiops/shared/output';
import { ClientCommand } from '../../cli/base.js';

interface MountView {
  type: string;
  accessor: string;
  description: string;
  options: Record<string, string> | null;
}

export default class SecretsList extends ClientCommand<typeof SecretsList> {
  static override summary = 'List the mounted secrets engines';
  static override examples = ['<%= config.bin %> secrets list', '<%= config.bin %> secrets list --json'];

  async run() {
    const r = await this.client().request('GET', 'sys/mounts');
    const mounts = (r?.data ?? {}) as Record<string, MountView>;
    if (!this.jsonEnabled()) {
      const rows = Object.entries(mounts)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([path, m]) => ({
          path,
          type: m.type,
          version: m.options?.version,
          accessor: m.accessor,
          description: m.description,
        }));
      this.log(renderTable(rows, ['path', 'type', 'version', 'accessor', 'description']));
    }
    return mounts;
  }
}
